# Turns a file into C source: cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed.cmake
# defines `const char NAME[]` (the bytes plus a NUL) and `const unsigned long NAME_len`.
get_filename_component(src "${IN}" NAME)
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" nhex)
math(EXPR len "${nhex} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
# one line per 32 bytes keeps the generated file readable by editors
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){32})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}"
  "/* Generated from ${src} at build time: do not edit. */\n"
  "const char ${NAME}[] = {\n${bytes}0x00};\n"
  "const unsigned long ${NAME}_len = ${len}ul;\n")
