# The Debian package: `cmake --build build --target package` writes
# build/stemd_VERSION_ARCH.deb with CPack's DEB generator. Everything the
# package holds comes from files in deploy/ (the unit, the configuration, the
# man page, the completion, the maintainer scripts), so the one CMake build is
# the only place a file list is kept.

# The packaged unit is made from deploy/stemd.service (the one source, which
# the README's manual install copies as it is): only the paths move from
# /usr/local to /usr. A socket unit beside it is packaged the same way.
set(stemd_unit_dir ${CMAKE_CURRENT_BINARY_DIR}/deploy/units)
foreach(unit IN ITEMS stemd.service stemd.socket)
  set(source ${CMAKE_CURRENT_SOURCE_DIR}/deploy/${unit})
  if(EXISTS ${source})
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${source})
    file(READ ${source} text)
    string(REPLACE "/usr/local/" "/usr/" text "${text}")
    file(CONFIGURE OUTPUT ${stemd_unit_dir}/${unit} CONTENT "${text}" @ONLY)
    install(FILES ${stemd_unit_dir}/${unit} DESTINATION /lib/systemd/system)
  endif()
endforeach()

# Debian wants the man page and the changelog compressed with gzip -9n (no
# time stamp, so the package is reproducible).
set(STEMD_DEB_MAINTAINER "stemd maintainers <stemd@example.org>"
    CACHE STRING "Maintainer field of the Debian package (and its changelog)")
set(stemd_gz_dir ${CMAKE_CURRENT_BINARY_DIR}/deploy/gz)
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/deploy/debian/changelog.in ${stemd_gz_dir}/changelog @ONLY)
set(stemd_gz_files)
foreach(pair IN ITEMS "${CMAKE_CURRENT_SOURCE_DIR}/deploy/stemd.1|stemd.1.gz"
                      "${stemd_gz_dir}/changelog|changelog.gz")
  string(REPLACE "|" ";" pair "${pair}")
  list(GET pair 0 source)
  list(GET pair 1 output)
  add_custom_command(OUTPUT ${stemd_gz_dir}/${output}
                     COMMAND ${CMAKE_COMMAND} -E make_directory ${stemd_gz_dir}
                     COMMAND gzip -9n -c ${source} > ${stemd_gz_dir}/${output}
                     DEPENDS ${source} VERBATIM)
  list(APPEND stemd_gz_files ${stemd_gz_dir}/${output})
endforeach()
add_custom_target(stemd_package_docs ALL DEPENDS ${stemd_gz_files})

# The configuration is a conffile, 0640: root owns it and the stemd group may
# read it (postinst sets the group through dpkg-statoverride, since the group
# does not exist where the package is built). It may come to hold api_key,
# so it is never world-readable, not even between unpack and configure; the
# lintian override says so.
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/deploy/stemd.toml DESTINATION /etc/stemd
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/deploy/debian/lintian-overrides
        DESTINATION share/lintian/overrides RENAME stemd)
install(FILES ${stemd_gz_dir}/stemd.1.gz DESTINATION share/man/man1)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/deploy/stemd.bash-completion
        DESTINATION share/bash-completion/completions RENAME stemd)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/deploy/debian/copyright ${stemd_gz_dir}/changelog.gz
              ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION share/doc/stemd)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME stemd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${STEMD_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION sound)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "daemon that extracts stems from audio with MusicGPT")
set(CPACK_PACKAGE_DESCRIPTION
    "stemd submits stem-separation jobs to the MusicGPT API, receives its\n"
    "webhooks, downloads the stems to disk with resume and retries, and\n"
    "answers a local, token-locked HTTP API and a command line for\n"
    "submitting and following jobs. It runs as a hardened systemd service.")
string(JOIN "" CPACK_PACKAGE_DESCRIPTION ${CPACK_PACKAGE_DESCRIPTION})
# Runtime libraries as dpkg-shlibdeps finds them in the binary; adduser for
# the system user the maintainer scripts create, init-system-helpers for
# deb-systemd-helper/-invoke (the unit's state, restart on upgrade, stop on
# remove).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, init-system-helpers (>= 1.54~)")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_SOURCE_DIR}/deploy/debian/conffiles
    ${CMAKE_CURRENT_SOURCE_DIR}/deploy/debian/postinst
    ${CMAKE_CURRENT_SOURCE_DIR}/deploy/debian/prerm
    ${CMAKE_CURRENT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
