#include "listener/http_server.hpp"

#include "listener/admission.hpp"
#include "listener/request_bounds.hpp"
#include "listener/request_reader.hpp"

#include "common/json_text.hpp"
#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <list>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace stemd::listener {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
namespace json = boost::json;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
}

reply json_reply(unsigned status, const json::value& body) {
    reply r;
    r.message.result(status);
    r.message.set(http::field::content_type, "application/json");
    r.message.body() = json_text(body);
    r.message.body() += '\n';
    r.message.prepare_payload();
    return r;
}

json::object error_body(std::string_view reason) {
    return json::object{{"ok", false}, {"error", reason}};
}

reply error_reply(unsigned status, std::string_view reason) {
    return json_reply(status, error_body(reason));
}

// Bookkeeping shared by the acceptor and every connection coroutine. All of
// it is touched from the one thread running the io_context.
struct http_server::state {
    struct conn {
        beast::tcp_stream* stream = nullptr;
        bool idle = true;       // waiting for the next request: safe to close on stop
        bool streaming = false; // sending an open-ended reply: ended on stop
    };

    net::any_io_executor ex;
    tcp::acceptor acceptor;
    handler handle;
    server_limits limits;
    std::shared_ptr<ssl::context> tls;
    std::string name;
    std::list<conn> conns;
    admission admitted;
    accept_backoff backoff;
    bool stopping = false;
    // Expires when stop() runs: what an open-ended stream's next chunk is
    // raced against (a wait started after stop() completes at once).
    net::steady_timer stopped;

    state(net::any_io_executor e, handler h, server_limits l, std::shared_ptr<ssl::context> t,
          std::string n)
        : ex(e), acceptor(e), handle(std::move(h)), limits(l), tls(std::move(t)),
          name(std::move(n)), admitted(l.max_connections, l.max_connections_per_address),
          stopped(e, net::steady_timer::time_point::max()) {}
};

namespace {

using state_ptr = std::shared_ptr<http_server::state>;

// Waits until the peer sends something or `idle` passes. False on timeout or
// cancellation (stop()).
net::awaitable<bool> wait_readable(beast::tcp_stream& s, std::chrono::milliseconds idle) {
    using namespace net::experimental::awaitable_operators;
    net::steady_timer timer(s.get_executor());
    timer.expires_after(idle);
    auto r = co_await (s.socket().async_wait(tcp::socket::wait_read, use_tuple) ||
                       timer.async_wait(use_tuple));
    if (r.index() == 1)
        co_return false;
    auto [ec] = std::get<0>(r);
    co_return !ec;
}

// Whether bytes of a request wait inside the TLS layer, where waiting on
// the socket does not see them. Two places, each tested:
//  - decrypted but not yet read (SSL_pending): Beast reads what fits its
//    buffer's free room, the rest of the record stays inside OpenSSL;
//  - records Asio already moved from the socket into OpenSSL's input BIO
//    (BIO_ctrl_pending): OpenSSL decrypts one record per read.
// Nothing else can hold any: without read_ahead (neither Asio nor stemd
// sets it) OpenSSL reads from the BIO exactly the record it decrypts, so
// SSL_has_pending adds nothing to SSL_pending; and Asio passes what it read
// from the socket to the BIO only once the BIO is drained, and the two are
// the same size, so none stays in Asio's own input buffer.
bool pending(beast::tcp_stream&) {
    return false;
}
bool pending(beast::ssl_stream<beast::tcp_stream&>& s) {
    SSL* ssl = s.native_handle();
    return ::SSL_pending(ssl) > 0 || ::BIO_ctrl_pending(::SSL_get_rbio(ssl)) > 0;
}

// The next chunk of an open-ended stream, or nullopt once the server stops
// or the peer closes (a stream's reader sends nothing after its request, so
// anything readable is its end: noticed now, not at the next write).
net::awaitable<std::optional<std::string>> next_chunk(reply& r, beast::tcp_stream& tcp,
                                                      net::steady_timer* stopped) {
    using namespace net::experimental::awaitable_operators;
    if (!stopped)
        co_return co_await r.stream();
    auto next = co_await (r.stream() || stopped->async_wait(use_tuple) ||
                          tcp.socket().async_wait(tcp::socket::wait_read, use_tuple));
    if (next.index() != 0)
        co_return std::nullopt;
    co_return std::get<0>(std::move(next));
}

// `stopped` is set for an open-ended reply.
template <class Stream>
net::awaitable<bool> send(Stream& stream, beast::tcp_stream& tcp, reply& r,
                          const server_limits& limits, net::steady_timer* stopped = nullptr) {
    if (!r.stream) {
        tcp.expires_after(limits.write_timeout);
        auto [ec, n] = co_await http::async_write(stream, r.message, use_tuple);
        co_return !ec;
    }
    http::response<http::buffer_body> res(r.message.base());
    res.body().data = nullptr;
    res.body().more = true;
    http::response_serializer<http::buffer_body> sr(res);
    tcp.expires_after(limits.write_timeout);
    if (auto [ec, n] = co_await http::async_write_header(stream, sr, use_tuple); ec)
        co_return false;
    for (;;) {
        auto chunk = co_await next_chunk(r, tcp, stopped);
        if (!chunk)
            co_return false; // stopping, or the peer left: the connection closes
        if (chunk->empty()) {
            res.body().data = nullptr;
            res.body().more = false;
        } else {
            res.body().data = chunk->data();
            res.body().size = chunk->size();
        }
        tcp.expires_after(limits.write_timeout);
        auto [ec, n] = co_await http::async_write(stream, sr, use_tuple);
        if (ec && ec != http::error::need_buffer)
            co_return false;
        if (!res.body().more)
            co_return true;
    }
}

// After a refusal the peer may still be sending the request it started
// (a 1 GiB upload refused from its Content-Length). Closing with unread bytes
// makes the kernel send a reset, and a reset can destroy the refusal before
// the peer reads it. So stop sending and discard what arrives until the peer
// closes, for a bounded time. A stopping server does not wait on it: stop()
// cancels it like an idle wait, and none starts once stop() has run.
net::awaitable<void> linger(const state_ptr& st, beast::tcp_stream& tcp,
                            http_server::state::conn& entry) {
    entry.idle = true;
    error_code ec;
    tcp.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (st->stopping)
        co_return;
    tcp.expires_after(
        std::min<std::chrono::milliseconds>(st->limits.request_timeout, std::chrono::seconds(5)));
    std::array<char, 16 * 1024> sink;
    for (;;) {
        auto [rec, n] = co_await tcp.async_read_some(net::buffer(sink), use_tuple);
        if (rec)
            co_return;
    }
}

// The answer to a request that could not be read whole: the parser's
// verdict, or 507 (logged) when its upload could not be stored.
reply read_failure(const state_ptr& st, error_code ec, bool write_failed) {
    if (!write_failed) {
        auto [status, reason] = refusal(ec);
        return error_reply(status, reason);
    }
    log_error("", st->name + ": cannot store an upload in " + st->limits.spool->directory.string() +
                      ": " + ec.message());
    return error_reply(507, "cannot store the upload; see the stemd log");
}

// The handler's answer; a handler that throws is a logged 500.
net::awaitable<reply> answer(const state_ptr& st, request& req, const peer_info& peer) {
    try {
        co_return co_await st->handle(req, peer);
    } catch (const std::exception& e) {
        log_error("", st->name + ": handler failed on " + std::string(req.method_string()) +
                          " (path withheld): " + e.what());
    }
    co_return error_reply(500, "internal error; see the stemd log");
}

// How a connection's request loop ended: `refused` leaves the peer possibly
// mid-request, so the caller lingers instead of closing in the usual way.
enum class ending { done, refused };

template <class Stream>
net::awaitable<ending> serve_requests(state_ptr st, Stream& stream, beast::tcp_stream& tcp,
                                      http_server::state::conn& entry, const peer_info& peer) {
    beast::flat_buffer buffer(read_buffer_limit(st->limits.header_limit));
    for (std::size_t served = 0;; ++served) {
        // Between requests the peer may idle up to idle_timeout; once it
        // starts a request, the whole of it must arrive within
        // request_timeout, which is what drops slow senders. A request
        // already buffered (here or inside OpenSSL) is read at once.
        entry.idle = true;
        if (served > 0 && buffer.size() == 0 && !pending(stream) &&
            !co_await wait_readable(tcp, st->limits.idle_timeout))
            co_return ending::done;
        if (st->stopping)
            co_return ending::done;

        tcp.expires_after(st->limits.request_timeout);
        incoming in; // its spool file, if any, is removed when the loop moves on
        const auto ec = co_await read_request(st->limits, stream, buffer, in);
        entry.idle = false;
        if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
            ec == beast::error::timeout || ec == net::error::eof ||
            ec == net::error::connection_reset)
            co_return ending::done;
        if (ec) {
            reply r = read_failure(st, ec, in.write_failed);
            r.message.keep_alive(false);
            co_await send(stream, tcp, r, st->limits);
            co_return ending::refused;
        }

        reply r;
        if (in.refused) {
            r.message = std::move(*in.refused);
        } else {
            peer_info about = peer;
            about.spooled_body = in.spooled.path;
            r = co_await answer(st, in.req, about);
        }
        r.message.version(in.req.version());
        r.message.keep_alive(!r.open_ended && !in.body_unread && in.req.keep_alive() &&
                             !st->stopping && served + 1 < st->limits.max_requests_per_connection);
        entry.streaming = r.open_ended && r.stream;
        if (!co_await send(stream, tcp, r, st->limits, entry.streaming ? &st->stopped : nullptr))
            co_return ending::done;
        if (in.body_unread)
            co_return ending::refused;
        if (!r.message.keep_alive())
            co_return ending::done;
    }
}

// `address` was counted by st->admitted; the session uncounts it.
net::awaitable<void> session(state_ptr st, tcp::socket socket, std::string address) {
    peer_info peer;
    error_code ec;
    peer.address = std::move(address);
    // Held for the whole connection: set_tls may swap st->tls meanwhile.
    const std::shared_ptr<ssl::context> tls = st->tls;
    peer.tls = tls != nullptr;

    beast::tcp_stream tcp(std::move(socket));
    auto it = st->conns.insert(st->conns.end(), {&tcp, true});
    struct unregister {
        state_ptr st;
        std::list<http_server::state::conn>::iterator it;
        std::string address;
        ~unregister() {
            st->conns.erase(it);
            st->admitted.release(address);
        }
    } guard{st, it, peer.address};

    if (!tls) {
        auto how = co_await serve_requests(st, tcp, tcp, *it, peer);
        if (how == ending::refused)
            co_await linger(st, tcp, *it);
        else
            tcp.socket().shutdown(tcp::socket::shutdown_send, ec);
        co_return;
    }
    beast::ssl_stream<beast::tcp_stream&> stream(tcp, *tls);
    tcp.expires_after(st->limits.request_timeout);
    if (auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple); hec)
        co_return;
    auto how = co_await serve_requests(st, stream, tcp, *it, peer);
    if (how == ending::refused) {
        // No close_notify: the refusal carries its length and asks to close,
        // and a TLS shutdown would wait on a peer that is still uploading.
        co_await linger(st, tcp, *it);
        co_return;
    }
    tcp.expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(use_tuple);
}

// Out of descriptors (EMFILE/ENFILE) or another accept failure: the
// pending connection stays queued and the next accept would fail at once,
// so wait, longer each time, and say so once per episode.
net::awaitable<void> back_off(const state_ptr& st, error_code ec) {
    auto wait = st->backoff.failed();
    if (wait.starts_episode)
        log_warning("", st->name + ": accept failed: " + ec.message() + "; retrying every " +
                            std::to_string(wait.delay.count()) + " ms to " +
                            std::to_string(accept_backoff::longest.count()) +
                            " ms until it succeeds (raise LimitNOFILE or lower "
                            "limits.max_connections if this is EMFILE)");
    net::steady_timer t(st->ex, wait.delay);
    co_await t.async_wait(use_tuple);
}

net::awaitable<void> accept_loop(state_ptr st) {
    while (st->acceptor.is_open()) {
        auto [ec, socket] = co_await st->acceptor.async_accept(use_tuple);
        if (ec == net::error::operation_aborted || !st->acceptor.is_open())
            co_return;
        if (ec) {
            co_await back_off(st, ec);
            continue;
        }
        st->backoff.succeeded();
        auto remote = socket.remote_endpoint(ec);
        std::string address = ec ? "unknown" : remote.address().to_string();
        if (!st->admitted.admit(address)) {
            // Refused cheaply: no read, no reply, no log line per attempt.
            socket.close(ec);
            continue;
        }
        net::co_spawn(
            st->ex, session(st, std::move(socket), std::move(address)),
            [name = st->name](std::exception_ptr e) { log_exception(name + ": connection", e); });
    }
}

} // namespace

http_server::http_server(net::any_io_executor ex, const std::string& host, std::uint16_t port,
                         handler h, server_limits limits, std::shared_ptr<ssl::context> tls,
                         std::string name)
    : state_(std::make_shared<state>(ex, std::move(h), limits, std::move(tls), std::move(name))) {
    error_code ec;
    auto address = net::ip::make_address(host, ec);
    if (ec) {
        // A host name: take its first address.
        tcp::resolver resolver(ex);
        auto results = resolver.resolve(host, std::to_string(port), ec);
        if (ec || results.empty())
            throw std::system_error(ec, state_->name + ": cannot resolve listen host \"" + host +
                                            "\"; use an IP address such as 127.0.0.1");
        address = results.begin()->endpoint().address();
    }
    tcp::endpoint ep(address, port);
    auto& a = state_->acceptor;
    a.open(ep.protocol());
    a.set_option(tcp::acceptor::reuse_address(true));
    a.bind(ep, ec);
    if (ec)
        throw std::system_error(ec, state_->name + ": cannot listen on " + host + ":" +
                                        std::to_string(port) + " (is another process using it?)");
    a.listen(net::socket_base::max_listen_connections);
}

http_server::http_server(net::any_io_executor ex, int listening_fd, handler h, server_limits limits,
                         std::shared_ptr<ssl::context> tls, std::string name)
    : state_(std::make_shared<state>(ex, std::move(h), limits, std::move(tls), std::move(name))) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    int listening = 0;
    socklen_t flag_len = sizeof listening;
    if (::getsockname(listening_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        (addr.ss_family != AF_INET && addr.ss_family != AF_INET6) ||
        ::getsockopt(listening_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &flag_len) != 0 ||
        listening == 0)
        throw std::system_error(std::make_error_code(std::errc::not_a_socket),
                                state_->name + ": descriptor " + std::to_string(listening_fd) +
                                    " is not a listening TCP socket; check ListenStream= in "
                                    "stemd.socket");
    state_->acceptor.assign(addr.ss_family == AF_INET ? tcp::v4() : tcp::v6(), listening_fd);
}

http_server::~http_server() {
    error_code ec;
    state_->acceptor.close(ec);
}

tcp::endpoint http_server::local_endpoint() const {
    return state_->acceptor.local_endpoint();
}

void http_server::start() {
    net::co_spawn(state_->ex, accept_loop(state_), [name = state_->name](std::exception_ptr e) {
        log_exception(name + ": accept loop", e);
    });
}

void http_server::stop() {
    state_->stopping = true;
    error_code ec;
    state_->acceptor.close(ec);
    state_->stopped.expires_at(net::steady_timer::time_point::min());
    for (auto& c : state_->conns)
        if (c.idle || c.streaming)
            c.stream->socket().cancel(ec);
}

std::size_t http_server::open_connections() const {
    return state_->conns.size();
}

void http_server::set_tls(std::shared_ptr<ssl::context> tls) {
    if (!tls || !state_->tls)
        throw std::logic_error(state_->name + ": set_tls needs a TLS server and a context");
    state_->tls = std::move(tls);
}

} // namespace stemd::listener
