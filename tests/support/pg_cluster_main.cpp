// `stemd_pg_cluster start|stop DIR`: the PostgreSQL cluster one test run
// shares (CTest fixture setup and cleanup, tests/storage/CMakeLists.txt).
#include "tests/support/pg_cluster.hpp"

#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>

int main(int argc, char** argv) {
    const std::string usage = "usage: stemd_pg_cluster start|stop DIR";
    if (argc != 3) {
        std::cerr << usage << '\n';
        return 2;
    }
    const std::string action = argv[1];
    try {
        if (action == "start") {
            if (!std::filesystem::exists("/usr/lib/postgresql/15/bin/initdb")) {
                std::cerr << "SKIPPED: PostgreSQL 15 is not installed; install postgresql-15\n";
                return 77;
            }
            stemd::test::pg_cluster::start_in(argv[2]);
        } else if (action == "stop") {
            stemd::test::pg_cluster::stop_in(argv[2]);
        } else {
            std::cerr << usage << '\n';
            return 2;
        }
    } catch (const std::exception& e) {
        std::cerr << e.what() << '\n';
        return 1;
    }
    return 0;
}
