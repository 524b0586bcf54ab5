# Turns a seed JSON file into a C++ source holding it as a string_view.
file(READ "${INPUT}" CONTENT)
file(WRITE "${OUTPUT}" "// Generated from ${INPUT}; do not edit.\n#include <string_view>\nnamespace cunhuo::seeds {\nextern const std::string_view ${SYMBOL};\nconst std::string_view ${SYMBOL} = R\"SEED(${CONTENT})SEED\";\n}\n")
