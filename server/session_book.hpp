#pragma once

// The page's sign-ins: browser sessions (a random id in a cookie, each with
// its own CSRF token), one-time sign-in codes (`stemd open`) and the
// throttle on failed sign-ins. Kept in memory only: a restart ends every
// session and the page asks for the token again, which is the right cost
// for keeping no secret that outlives the process on disk. Pure: no
// Beast, no clock of its own (every call takes `now`), safe to use from
// several threads.

#include "common/time.hpp"

#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace stemd::server {

struct session_limits {
    std::size_t max_sessions = 64;            // the least recently used goes first
    millis idle = 12LL * 3600 * 1000;         // unused this long: ended
    millis lifetime = 7LL * 24 * 3600 * 1000; // after this, whatever its use: ended
    std::size_t max_codes = 16;               // the oldest unredeemed code goes first
    millis code_lifetime = 60 * 1000;         // a one-time code is good this long
    std::size_t max_failures = 10;            // failed sign-ins allowed per window
    millis failure_window = 60 * 1000;
};

// What a new session is known by: `id` goes into the cookie, `csrf` to the
// page (which sends it back as X-CSRF-Token).
struct session_ticket {
    std::string id;
    std::string csrf;
};

class session_book {
public:
    explicit session_book(session_limits limits = {});

    // A new session; when the book is full, the one unused longest ends.
    session_ticket open(millis now);
    // The CSRF token of the live session `id`, which counts as a use; nullopt
    // when it is unknown, idle too long or older than its lifetime (and then
    // ended).
    std::optional<std::string> csrf_of(std::string_view id, millis now);
    // Whether `id` is a live session, without counting as a use (an open
    // event stream asking does not keep an idle page signed in).
    bool alive(std::string_view id, millis now);
    // Ends the session `id`; false when there was none.
    bool close(std::string_view id);
    // Ends every session (the API token changed).
    void close_all();
    std::size_t sessions() const;
    millis code_lifetime() const { return limits_.code_lifetime; }

    // A new one-time code, good for code_lifetime; when max_codes are
    // waiting, the oldest is dropped.
    std::string issue_code(millis now);
    // True once for a code issued less than code_lifetime ago; the code is
    // spent either way.
    bool redeem_code(std::string_view code, millis now);

    // While too many sign-ins failed within failure_window: how long until
    // the next may be tried (at least 1 ms); nullopt when sign-ins are open.
    std::optional<millis> throttled(millis now);
    // Counts a failed sign-in (a wrong token or code).
    void note_failure(millis now);

private:
    struct entry {
        std::string csrf;
        millis created = 0;
        millis used = 0;
    };
    bool expired(const entry& e, millis now) const;
    void drop_stale(millis now);

    session_limits limits_;
    mutable std::mutex mutex_;
    // Keyed by the SHA-256 of the id, so that neither the map's comparisons
    // nor a memory dump hand the id itself out.
    std::map<std::string, entry> sessions_;
    std::map<std::string, millis> codes_; // digest -> issued at
    std::deque<millis> failures_;
};

} // namespace stemd::server
