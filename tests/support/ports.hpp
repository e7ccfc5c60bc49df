#pragma once

namespace stemd::test {

// A TCP port on 127.0.0.1 for a server a test starts, held until destroyed.
// It lies outside the kernel's ephemeral range, so no outgoing connection
// can take it as a source port while the test restarts its server; and an
// open-file-description lock on one byte of a shared file keeps concurrent
// test processes from being given the same port. Throws when none is free.
class reserved_port {
public:
    reserved_port();
    ~reserved_port();
    reserved_port(const reserved_port&) = delete;
    reserved_port& operator=(const reserved_port&) = delete;

    int number() const { return number_; }

private:
    int number_ = 0;
    int lock_fd_ = -1;
};

} // namespace stemd::test
