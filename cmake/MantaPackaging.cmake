# The Debian packages (docs/deploy.md, "Debian packages"): CPack's DEB
# generator over what `cmake --install` puts in a prefix, installed under
# /usr, one package per install component, as Debian splits a library:
#
#   libmanta0       lib       libmanta.so.0 (the runtime library alone)
#   libmanta-dev    dev       manta.h, the libmanta.so link, CMake and
#                             pkg-config files
#   manta           cli       the manta command
#   libmanta-java   java      manta.jar (carrying its libraries), libmanta_jni,
#                             the pom
#   manta-examples  examples  the examples' module and the name-matching demo
#
#   cpack --config build/CPackConfig.cmake -B OUT    -> OUT/<package>_<v>_amd64.deb
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME manta)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(MANTA_DEB_MAINTAINER "manta maintainers <manta@localhost>" CACHE STRING
    "the Maintainer field of the Debian packages")
set(CPACK_PACKAGE_CONTACT "${MANTA_DEB_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING IGNORE)
set(manta_deb_components lib dev cli)
if(MANTA_BUILD_JAVA)
  list(APPEND manta_deb_components java)
endif()
if(MANTA_BUILD_EXAMPLES)
  list(APPEND manta_deb_components examples)
endif()
set(CPACK_COMPONENTS_ALL ${manta_deb_components})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The libraries' dependencies, as Debian names them, from dpkg-shlibdeps
# (libgrpc, libprotobuf-c, libmicrohttpd, libc; libjvm's package for
# libmanta_jni). libmanta.so.0 itself is found in the build tree, a private
# folder to dpkg-shlibdeps (it records no package for it); each package
# that links it depends on libmanta0 of the same version instead (below).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libmanta_jni's RUNPATH names the JDK's lib/server (libjvm for a C node
# hosting a JVM); dpkg-shlibdeps finds libjvm there.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS
    ${PROJECT_BINARY_DIR}/runtime ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR})
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)

set(CPACK_DEBIAN_LIB_PACKAGE_NAME libmanta${MANTA_ABI_MAJOR})
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
set(CPACK_COMPONENT_LIB_DESCRIPTION
    "manta runtime library
manta runs functions and actors named by strings, from C and Java,
embedded in one process or across the nodes of a cluster connected by
gRPC. This package holds the shared library libmanta.")
# shlibs (what packages linking libmanta.so.0 depend on) and an ldconfig
# trigger, as Debian's policy asks, rather than CPack's generated
# maintainer scripts that call ldconfig.
set(manta_deb_control ${CMAKE_CURRENT_BINARY_DIR}/deb-control)
file(WRITE ${manta_deb_control}/shlibs
     "libmanta ${MANTA_ABI_MAJOR} libmanta${MANTA_ABI_MAJOR} (>= ${PROJECT_VERSION})\n")
file(WRITE ${manta_deb_control}/triggers "activate-noawait ldconfig\n")
set(CPACK_DEBIAN_LIB_PACKAGE_CONTROL_EXTRA
    ${manta_deb_control}/shlibs ${manta_deb_control}/triggers)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libmanta-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DEPENDS lib)
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "manta runtime library (development files)
The header manta.h, the libmanta.so link, the CMake package
(find_package(manta)) and the pkg-config file manta.pc for building
programs against libmanta.")

set(CPACK_DEBIAN_CLI_PACKAGE_NAME manta)
set(CPACK_DEBIAN_CLI_PACKAGE_SECTION utils)
set(CPACK_COMPONENT_CLI_DEPENDS lib)
set(CPACK_COMPONENT_CLI_DESCRIPTION
    "manta command: start, stop and watch the nodes of a cluster
manta start runs a node (a head, or one joining a head) that loads
modules of functions and actor classes; manta status, stop, logs,
timeline and serve show and steer a running cluster.")

set(CPACK_DEBIAN_JAVA_PACKAGE_NAME libmanta-java)
set(CPACK_DEBIAN_JAVA_PACKAGE_SECTION java)
set(CPACK_COMPONENT_JAVA_DEPENDS lib)
set(CPACK_COMPONENT_JAVA_DESCRIPTION
    "manta runtime library (Java binding)
manta.jar, which carries its native libraries and loads them itself,
libmanta_jni, and a pom under /usr/share/maven-repo.")
# Java libraries need a JVM to be of use, but Debian's policy leaves the
# choice of it to the user: recommended, not required.
set(CPACK_DEBIAN_JAVA_PACKAGE_RECOMMENDS "openjdk-17-jre-headless")
set(CPACK_DEBIAN_JAVA_PACKAGE_CONTROL_EXTRA ${manta_deb_control}/triggers)

set(CPACK_DEBIAN_EXAMPLES_PACKAGE_NAME manta-examples)
set(CPACK_DEBIAN_EXAMPLES_PACKAGE_SECTION misc)
set(CPACK_COMPONENT_EXAMPLES_DEPENDS lib cli)
set(CPACK_COMPONENT_EXAMPLES_DESCRIPTION
    "manta examples: a module and the name-matching demo
libmanta_examples.so (square, retrieve, process, aggregate, Counter) and
the name-matching demo under /usr/lib/manta/name_match: name_match,
gen_names and name_match_module.so.")
# Each package's changelog (usr/share/doc/PACKAGE/changelog.gz, a native
# package's), installed only when a component is installed on its own, as
# CPack does: a plain `cmake --install` leaves it out.
string(TIMESTAMP manta_deb_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
foreach(component IN LISTS CPACK_COMPONENTS_ALL)
  string(TOUPPER ${component} up)
  set(name ${CPACK_DEBIAN_${up}_PACKAGE_NAME})
  set(dir ${manta_deb_control}/doc/${name})
  file(WRITE ${dir}/changelog "${name} (${PROJECT_VERSION}) unstable; urgency=medium

  * Version ${PROJECT_VERSION}, built by CPack from the manta source tree.

 -- ${MANTA_DEB_MAINTAINER}  ${manta_deb_date}
")
  execute_process(COMMAND gzip -9nf ${dir}/changelog)
  install(FILES ${dir}/changelog.gz DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${name}
    COMPONENT ${component} EXCLUDE_FROM_ALL)
endforeach()
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
