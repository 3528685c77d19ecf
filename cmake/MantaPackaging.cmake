# The Debian package (docs/deploy.md, "Debian package"): CPack's DEB
# generator over what `cmake --install` puts in a prefix, installed under
# /usr. One package, manta: the library, the header, the CMake and
# pkg-config files, the manta command, the examples' module, the Java
# binding (libmanta_jni, manta.jar carrying its libraries, the pom).
#
#   cpack --config build/CPackConfig.cmake -B OUT    -> OUT/manta_<v>_amd64.deb
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME manta)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
    "manta runs functions and actors named by strings, from C and Java,
embedded in one process or across the nodes of a cluster connected by
gRPC. This package holds libmanta, its header manta.h with CMake and
pkg-config files, the manta command that starts, stops and shows nodes,
and the Java binding (manta.jar, which carries its native libraries).")
set(MANTA_DEB_MAINTAINER "manta maintainers <manta@localhost>" CACHE STRING
    "the Maintainer field of the Debian package")
set(CPACK_PACKAGE_CONTACT "${MANTA_DEB_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The libraries' dependencies, as Debian names them, from dpkg-shlibdeps
# (libgrpc, libprotobuf-c, libmicrohttpd, libc; libjvm's package for
# libmanta_jni).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libmanta_jni's RUNPATH names the JDK's lib/server (libjvm for a C node
# hosting a JVM); dpkg-shlibdeps finds libjvm there.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS
    ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR})
# The Java binding is loaded into a JVM (or starts one in a C node).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "openjdk-17-jre-headless")
# shlibs (what packages linking libmanta.so.0 depend on) and an ldconfig
# trigger, as Debian's policy asks, rather than CPack's generated
# maintainer scripts that call ldconfig.
set(manta_deb_control ${CMAKE_CURRENT_BINARY_DIR}/deb-control)
file(WRITE ${manta_deb_control}/shlibs
     "libmanta ${MANTA_ABI_MAJOR} manta (>= ${PROJECT_VERSION})\n")
file(WRITE ${manta_deb_control}/triggers "activate-noawait ldconfig\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${manta_deb_control}/shlibs ${manta_deb_control}/triggers)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Stripped, as Debian ships binaries (the build tree keeps the debug info
# the ABI check needs).
set(CPACK_STRIP_FILES ON)
include(CPack)

# The package built, checked (lintian too) and run from a throwaway root
# (tests/package/run-deb-test.sh). nosan: the package holds what the build
# made, and an instrumented libmanta cannot run the uninstrumented JVM.
if(MANTA_BUILD_TESTS)
  set(manta_deb_test_java)
  if(MANTA_BUILD_JAVA)
    set(manta_deb_test_java ${Java_JAVA_EXECUTABLE} ${Java_JAVAC_EXECUTABLE})
  endif()
  add_test(NAME package_deb
    COMMAND bash ${PROJECT_SOURCE_DIR}/tests/package/run-deb-test.sh
            ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR} ${CMAKE_C_COMPILER}
            ${manta_deb_test_java})
  set_tests_properties(package_deb PROPERTIES LABELS "package;install;nosan"
    TIMEOUT 900)
endif()
