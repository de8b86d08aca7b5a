# The live page served at GET /ui: ui/index.html with its stylesheet and scripts
# inlined (inline.cmake), then embedded as a C string (embed.cmake) into the
# handlers library (handlers/ui.c serves it). Included from handlers/.
set(IOCPU_UI_HTML ${CMAKE_CURRENT_BINARY_DIR}/ui.html)
set(IOCPU_UI_C ${CMAKE_CURRENT_BINARY_DIR}/ui_html.c)
set(ui_dir ${PROJECT_SOURCE_DIR}/ui)
set(ui_files index.html style.css core.js lang.js charts.js lessons.js tasks.js waits.js app.js)
list(TRANSFORM ui_files PREPEND ${ui_dir}/)
add_custom_command(OUTPUT ${IOCPU_UI_C}
  COMMAND ${CMAKE_COMMAND} -DDIR=${ui_dir} -DOUT=${IOCPU_UI_HTML}
          -P ${PROJECT_SOURCE_DIR}/cmake/inline.cmake
  COMMAND ${CMAKE_COMMAND} -DIN=${IOCPU_UI_HTML} -DOUT=${IOCPU_UI_C} -DNAME=iocpu_ui_html
          -P ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
  DEPENDS ${ui_files}
          ${PROJECT_SOURCE_DIR}/cmake/inline.cmake ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
  COMMENT "Embedding the page in ui/")
target_sources(iocpu_handlers PRIVATE ${IOCPU_UI_C})

# The API page served at GET /docs: ui/docs/ made the same way.
set(IOCPU_DOCS_HTML ${CMAKE_CURRENT_BINARY_DIR}/docs.html)
set(IOCPU_DOCS_C ${CMAKE_CURRENT_BINARY_DIR}/docs_html.c)
set(docs_dir ${PROJECT_SOURCE_DIR}/ui/docs)
set(docs_files index.html docs.css docs.js)
list(TRANSFORM docs_files PREPEND ${docs_dir}/)
add_custom_command(OUTPUT ${IOCPU_DOCS_C}
  COMMAND ${CMAKE_COMMAND} -DDIR=${docs_dir} -DOUT=${IOCPU_DOCS_HTML}
          -P ${PROJECT_SOURCE_DIR}/cmake/inline.cmake
  COMMAND ${CMAKE_COMMAND} -DIN=${IOCPU_DOCS_HTML} -DOUT=${IOCPU_DOCS_C} -DNAME=iocpu_docs_html
          -P ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
  DEPENDS ${docs_files}
          ${PROJECT_SOURCE_DIR}/cmake/inline.cmake ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
  COMMENT "Embedding the page in ui/docs/")
target_sources(iocpu_handlers PRIVATE ${IOCPU_DOCS_C})
