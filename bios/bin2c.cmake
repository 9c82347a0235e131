# bin2c.cmake: turns a firmware image (IN) into a C array NAME (OUT) linked into anyvm.
if(NOT DEFINED NAME)
  set(NAME anyvm_bios)
endif()
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" body "${body}")
file(WRITE ${OUT} "/* generated from bios/ at build time; do not edit. */\n"
     "#include \"bios/bios.h\"\n"
     "const unsigned char ${NAME}_image[${size}] = {\n${body}\n};\n"
     "const size_t ${NAME}_size = ${size};\n")
