# Relative RUNPATHs for installed programs and modules: each finds
# libmanta in the installed lib folder by a path from its own location
# ($ORIGIN), so an install prefix works wherever it is put, and moved
# (docs/deploy.md, "Installs"). libmanta itself needs none: what it links
# is in the system's folders.
#
#   manta_install_rpath(<target> <install-dir>)
#
# <install-dir> is where <target> is installed, relative to the prefix
# (such as ${CMAKE_INSTALL_BINDIR}); other entries already in the target's
# INSTALL_RPATH are kept after the new one.
function(manta_install_rpath target install_dir)
  file(RELATIVE_PATH to_lib "/prefix/${install_dir}"
       "/prefix/${CMAKE_INSTALL_LIBDIR}")
  string(REGEX REPLACE "/$" "" to_lib "${to_lib}")
  if(to_lib STREQUAL "")
    set(entry "\$ORIGIN")
  else()
    set(entry "\$ORIGIN/${to_lib}")
  endif()
  get_target_property(kept ${target} INSTALL_RPATH)
  if(NOT kept)
    set(kept "")
  endif()
  list(REMOVE_ITEM kept "${entry}")
  set_target_properties(${target} PROPERTIES INSTALL_RPATH "${entry};${kept}")
endfunction()
