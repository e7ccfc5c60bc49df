#include "server/cli.hpp"

int main(int argc, char** argv) { return stemd::server::run_cli(argc, argv); }
