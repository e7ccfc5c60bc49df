// The composition root of the `stemd` binary.

#include "cli/cli.hpp"

int main(int argc, char** argv) {
    return stemd::cli::run_cli(argc, argv);
}
