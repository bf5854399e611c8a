# Renders the API reference for GET /docs from openapi.yaml at build time (cmake -P):
# Redocly's build-docs writes one HTML page (prerendered, the spec inlined) whose script is
# the Redoc bundle from a CDN; deskd must work without network, so that reference becomes
# /docs/redoc.js and the bundle is copied beside the page from tools/node_modules/redoc
# (a devDependency pinned to the version this Redocly CLI links to).
#   -DSRC=<source dir> -DOUT=<output dir> -DREDOCLY=<redocly bin> -DNODE=<node>
set(redoc_dir ${SRC}/tools/node_modules/redoc)
file(MAKE_DIRECTORY ${OUT})
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
          ${NODE} ${REDOCLY} build-docs ${SRC}/openapi.yaml -o ${OUT}/docs.raw.html
  RESULT_VARIABLE rc OUTPUT_VARIABLE log ERROR_VARIABLE log)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "redocly build-docs failed (${rc}):\n${log}")
endif()
file(READ ${OUT}/docs.raw.html html)
set(cdn_re "https://cdn\\.redocly\\.com/redoc/v([0-9][0-9.a-z-]*)/bundles/redoc\\.standalone\\.js")
if(NOT html MATCHES "${cdn_re}")
  message(FATAL_ERROR "the page redocly build-docs wrote does not load the Redoc bundle from its "
    "CDN as expected; api/docs.cmake needs updating for this Redocly CLI version")
endif()
set(want ${CMAKE_MATCH_1})
file(READ ${redoc_dir}/package.json pkg)
string(JSON have GET "${pkg}" version)
if(NOT want STREQUAL have)
  message(FATAL_ERROR "redocly build-docs links Redoc ${want} but tools/node_modules has redoc "
    "${have}: set \"redoc\": \"${want}\" in tools/package.json and run npm install there")
endif()
string(REGEX REPLACE "${cdn_re}" "/docs/redoc.js" html "${html}")
# Nothing else may come from the network: no script, style or font from http(s).
if(html MATCHES "(src|href)=\"https?://[^\"]*\\.(js|css|woff2?)\"" OR html MATCHES "from \"https?://")
  message(FATAL_ERROR "the docs page still loads something from the network: ${CMAKE_MATCH_0}")
endif()
file(WRITE ${OUT}/docs.html.tmp "${html}")
file(COPY_FILE ${OUT}/docs.html.tmp ${OUT}/docs.html ONLY_IF_DIFFERENT)
file(COPY_FILE ${redoc_dir}/bundles/redoc.standalone.js ${OUT}/redoc.js ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}/docs.raw.html ${OUT}/docs.html.tmp)
