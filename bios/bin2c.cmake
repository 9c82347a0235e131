# bin2c.cmake: turns the BIOS image (IN) into a C array (OUT) linked into anyvm.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" body "${body}")
file(WRITE ${OUT} "/* bios_rom.c: generated from bios.S at build time; do not edit. */\n"
     "#include \"bios/bios.h\"\n"
     "const unsigned char anyvm_bios_image[${size}] = {\n${body}\n};\n"
     "const size_t anyvm_bios_size = ${size};\n")
