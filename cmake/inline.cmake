# Inlines a page's stylesheets and scripts: cmake -DDIR=ui -DOUT=page.html -P inline.cmake
# reads DIR/index.html and replaces each
#   <link rel="stylesheet" href="NAME.css">  with <style> + DIR/NAME.css + </style>
#   <script src="NAME.js"></script>          with <script> + DIR/NAME.js + </script>
# so the page served is one self-contained response. Fails if the page links
# nothing, or a file would close its element early.
file(READ "${DIR}/index.html" html)

function(inline_all html_var pattern name_regex open close)
  set(page "${${html_var}}")
  string(REGEX MATCHALL "${pattern}" tags "${page}")
  if(NOT tags)
    message(FATAL_ERROR "${DIR}/index.html has no ${pattern}")
  endif()
  foreach(tag IN LISTS tags)
    string(REGEX REPLACE "${name_regex}" "\\1" name "${tag}")
    file(READ "${DIR}/${name}" text)
    string(TOLOWER "${text}" lower)
    string(FIND "${lower}" "${close}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${DIR}/${name} contains ${close}, which would end the inlined element")
    endif()
    string(REPLACE "${tag}" "${open}\n${text}${close}>" page "${page}")
  endforeach()
  set(${html_var} "${page}" PARENT_SCOPE)
endfunction()

inline_all(html "<link rel=\"stylesheet\" href=\"[a-z_]+\\.css\">"
           ".*href=\"([a-z_]+\\.css)\".*" "<style>" "</style")
inline_all(html "<script src=\"[a-z_]+\\.js\"></script>"
           ".*src=\"([a-z_]+\\.js)\".*" "<script>" "</script")
file(WRITE "${OUT}" "${html}")
