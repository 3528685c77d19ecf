# Run by `cmake --install` (bindings/java/CMakeLists.txt) once manta.jar,
# libmanta and libmanta_jni are installed: puts the installed libraries
# (their install RUNPATHs, not the build tree's) into the installed jar
# under manta/native/linux-x86_64/, with an index of their SHA-256s in load
# order, so that `java -cp manta.jar` works with the jar alone
# (manta.NativeLoader, docs/java.md).
#
# Set by the caller: MANTA_JAR_TOOL (the JDK's jar), MANTA_LIBDIR,
# MANTA_JARDIR (install dirs, relative to the prefix or absolute),
# MANTA_LIBS (file names in load order), MANTA_STAGE (a scratch folder
# name; a random suffix is added), MANTA_BUILT_LIBDIR (where the build made
# libmanta).
#
# A component install (the libmanta-java package, cmake/MantaPackaging.cmake)
# installs the Java binding without libmanta, which is in the libmanta0
# package: the jar then carries the build tree's libmanta, the same file
# (libmanta has no RUNPATH, built or installed), stripped with MANTA_STRIP
# when the install strips.
function(manta_installed path out)
  if(IS_ABSOLUTE "${path}")
    set(${out} "$ENV{DESTDIR}${path}" PARENT_SCOPE)
  else()
    set(${out} "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/${path}" PARENT_SCOPE)
  endif()
endfunction()

manta_installed("${MANTA_LIBDIR}" libdir)
manta_installed("${MANTA_JARDIR}/manta.jar" jar)
# Installs may run at once (the install, jar and package tests): each
# stages in a folder of its own.
string(RANDOM LENGTH 12 stage_id)
set(MANTA_STAGE "${MANTA_STAGE}-${stage_id}")
set(native "${MANTA_STAGE}/manta/native/linux-x86_64")
file(REMOVE_RECURSE "${MANTA_STAGE}")
file(MAKE_DIRECTORY "${native}")
set(index "")
foreach(name ${MANTA_LIBS})
  if(EXISTS "${libdir}/${name}")
    file(REAL_PATH "${libdir}/${name}" real)
  elseif(name MATCHES "^libmanta\\.so" AND EXISTS "${MANTA_BUILT_LIBDIR}/${name}")
    file(REAL_PATH "${MANTA_BUILT_LIBDIR}/${name}" real)
  else()
    message(FATAL_ERROR "manta.jar: ${libdir}/${name} is not installed")
  endif()
  file(COPY_FILE "${real}" "${native}/${name}")
  if(NOT real MATCHES "^${libdir}/" AND CMAKE_INSTALL_DO_STRIP AND MANTA_STRIP)
    execute_process(COMMAND "${MANTA_STRIP}" "${native}/${name}")
  endif()
  file(SHA256 "${native}/${name}" sum)
  string(APPEND index "${sum} ${name}\n")
endforeach()
file(WRITE "${native}/index" "${index}")
message(STATUS "Embedding ${MANTA_LIBS} in ${jar}")
execute_process(COMMAND "${MANTA_JAR_TOOL}" uf "${jar}" -C "${MANTA_STAGE}"
                        manta/native
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "manta.jar: ${MANTA_JAR_TOOL} uf ${jar} failed (${rc})")
endif()
file(REMOVE_RECURSE "${MANTA_STAGE}")
