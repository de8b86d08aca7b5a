# The live page served at GET /ui: ui/index.html with its stylesheet and scripts
# inlined (inline.cmake), then embedded as a C string (embed.cmake) into the
# handlers library (handlers/ui.c serves it). Included from handlers/.
set(IOCPU_UI_HTML ${CMAKE_CURRENT_BINARY_DIR}/ui.html)
set(IOCPU_UI_C ${CMAKE_CURRENT_BINARY_DIR}/ui_html.c)
set(ui_dir ${PROJECT_SOURCE_DIR}/ui)
set(ui_files index.html style.css core.js lang.js charts.js lessons.js tasks.js app.js)
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
