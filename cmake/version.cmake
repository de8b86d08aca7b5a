# /version's build facts (handlers/version.c): cmake/buildinfo.cmake runs at
# every build and rewrites buildinfo.c only when the commit, the version or
# the build type changed. Included from handlers/.
set(IOCPU_BUILDINFO_C ${CMAKE_CURRENT_BINARY_DIR}/buildinfo.c)
add_custom_target(iocpu_buildinfo
  COMMAND ${CMAKE_COMMAND} -DSRC=${PROJECT_SOURCE_DIR} -DOUT=${IOCPU_BUILDINFO_C}
          -DVERSION=${PROJECT_VERSION} -DBUILD_TYPE=$<CONFIG>
          -P ${PROJECT_SOURCE_DIR}/cmake/buildinfo.cmake
  BYPRODUCTS ${IOCPU_BUILDINFO_C}
  COMMENT "Build facts for /version (git commit)")
target_sources(iocpu_handlers PRIVATE ${IOCPU_BUILDINFO_C})
add_dependencies(iocpu_handlers iocpu_buildinfo)
