# Turns one text file (IN) into a C string named NAME in OUT, so the binary
# carries it (the man page's prose for 'pgcutover --generate=man').
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
file(WRITE ${OUT}.tmp "/* generated from ${IN} by cmake/embed_text.cmake: do not edit */\nextern const char ${NAME}[];\nconst char ${NAME}[] = {${hex}0x00};\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.tmp ${OUT})
