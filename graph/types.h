// types.h - Element types: names, sizes and the C++ type of each DataType.
#ifndef WEIR_GRAPH_TYPES_H_
#define WEIR_GRAPH_TYPES_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "proto/types.pb.h"

namespace weir {

// TensorFlow's lower-case name: "float", "int32", "bool", "float_ref", ...
std::string DataTypeString(DataType dtype);
// Parses the names DataTypeString produces (also "DT_FLOAT" and "half"); false if unknown.
bool DataTypeFromString(absl::string_view name, DataType* dtype);
// Bytes per element; 0 for types without a fixed size (string, resource, variant, invalid).
int DataTypeSize(DataType dtype);

inline bool IsRefType(DataType dtype) { return static_cast<int>(dtype) > 100; }
inline DataType BaseType(DataType dtype) {
  return IsRefType(dtype) ? static_cast<DataType>(static_cast<int>(dtype) - 100) : dtype;
}
bool DataTypeIsFloating(DataType dtype);  // half, bfloat16, float, double
bool DataTypeIsInteger(DataType dtype);   // signed and unsigned integers

// Maps a C++ element type to its DataType: DataTypeToEnum<float>::value == DT_FLOAT.
template <typename T>
struct DataTypeToEnum;
#define WEIR_MAP_TYPE(CType, Enum)                   \
  template <>                                        \
  struct DataTypeToEnum<CType> {                     \
    static constexpr DataType value = Enum;          \
  };
WEIR_MAP_TYPE(float, DT_FLOAT)
WEIR_MAP_TYPE(double, DT_DOUBLE)
WEIR_MAP_TYPE(int32_t, DT_INT32)
WEIR_MAP_TYPE(int64_t, DT_INT64)
WEIR_MAP_TYPE(uint8_t, DT_UINT8)
WEIR_MAP_TYPE(int8_t, DT_INT8)
WEIR_MAP_TYPE(int16_t, DT_INT16)
WEIR_MAP_TYPE(uint16_t, DT_UINT16)
WEIR_MAP_TYPE(uint32_t, DT_UINT32)
WEIR_MAP_TYPE(uint64_t, DT_UINT64)
WEIR_MAP_TYPE(bool, DT_BOOL)
WEIR_MAP_TYPE(std::string, DT_STRING)  // a DT_STRING tensor's elements are std::string objects
#undef WEIR_MAP_TYPE

}  // namespace weir

#endif  // WEIR_GRAPH_TYPES_H_
