#pragma once

// Removing the files of pruned jobs (retention.delete_files): only what
// stemd itself wrote beneath storage.output_dir. Every directory below
// output_dir is opened without following a link and every file is
// examined without following one, so a symbolic link planted in the tree
// (or a recorded path pointing elsewhere) never leads the removal outside
// it; such entries are left in place and reported.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace stemd::jobs {

struct stem_removal {
    std::int64_t files = 0; // regular files removed (stems, .part, resume records)
    std::int64_t bytes = 0;
    std::int64_t directories = 0;  // task folders (and subfolders) left empty and removed
    std::vector<std::string> kept; // "path: why it was left in place"
};

// Removes each path's file, its ".part" and ".part.meta", when they are
// regular files beneath `output_dir`; then the folders between the file
// and `output_dir` that are left empty. Each directory changed is
// fsync'd, so a removal survives a crash. A path already gone is no error.
// Blocking file-system calls: run it off the io thread.
stem_removal remove_stems(const std::filesystem::path& output_dir,
                          const std::vector<std::string>& paths);

} // namespace stemd::jobs
