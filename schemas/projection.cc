// A plan is a tree of nodes mirroring the writer schema (a named type used twice appears twice,
// with different paths). Leaves whose path was asked for carry the index of that path (slot).
// The walker follows the Avro binary encoding (specification 1.11, "Binary Encoding"): zig-zag
// varints for int/long/lengths/counts/indexes, length-prefixed strings and bytes, blocked arrays
// and maps (a negative count is followed by the block's byte size), union branch indexes.
#include "schemas/projection.h"

#include <cstdint>
#include <cstdio>
#include <cstring>

#include "schemas/avro_handle.h"
#include "schemas/codec.h"
#include "schemas/error.h"

namespace carehub {

namespace {

enum class Op : std::uint8_t {
  kNull,
  kBool,
  kInt,   // int (and its logical types, e.g. date): refused outside 32 bits, as the decoder does
  kLong,  // long (and its logical types)
  kFloat,
  kDouble,
  kBytes,  // string and bytes
  kFixed,
  kEnum,
  kRecord,
  kArray,
  kMap,
  kUnion
};

constexpr std::size_t kHeaderSize = 10;
// Items of a zero-width type (null) in one array or map block: more is not a real record.
constexpr std::int64_t kMaxZeroWidthItems = 1 << 16;

}  // namespace

struct ProjectionReader::Plan {
  struct Node {
    Op op = Op::kNull;
    int slot = -1;                     // index of the asked path, or -1
    std::int64_t fixed_size = 0;       // kFixed
    std::int64_t min_width = 0;        // bytes an encoded value takes at least
    std::vector<int> children;         // record fields, union branches, array/map items
    std::vector<std::string> symbols;  // kEnum
  };
  RecordKind kind = RecordKind::kAssessment;
  std::vector<Node> nodes;  // nodes[0] is the root
};

namespace {

using Plan = ProjectionReader::Plan;

// A named type used again is a link to its definition; only a recursive one nests this deep.
constexpr int kMaxDepth = 32;

int Compile(avro_schema_t schema, const std::string& path, const std::map<std::string, int>& slots,
            Plan& plan, int depth = 0) {
  if (depth > kMaxDepth) {
    throw Error::InvalidInput("projection: schema nested too deep (recursive?) at '" + path + "'");
  }
  if (avro_typeof(schema) == AVRO_LINK) {
    return Compile(avro_schema_link_target(schema), path, slots, plan, depth + 1);
  }
  const int index = static_cast<int>(plan.nodes.size());
  plan.nodes.emplace_back();
  Plan::Node node;
  const auto leaf = [&](Op op, std::int64_t width) {
    node.op = op;
    node.min_width = width;
    const auto it = slots.find(path);
    if (it != slots.end()) node.slot = it->second;
  };
  switch (avro_typeof(schema)) {
    case AVRO_NULL:
      leaf(Op::kNull, 0);
      break;
    case AVRO_BOOLEAN:
      leaf(Op::kBool, 1);
      break;
    case AVRO_INT32:
      leaf(Op::kInt, 1);
      break;
    case AVRO_INT64:
      leaf(Op::kLong, 1);
      break;
    case AVRO_FLOAT:
      leaf(Op::kFloat, 4);
      break;
    case AVRO_DOUBLE:
      leaf(Op::kDouble, 8);
      break;
    case AVRO_STRING:
    case AVRO_BYTES:
      leaf(Op::kBytes, 1);
      break;
    case AVRO_FIXED:
      leaf(Op::kFixed, avro_schema_fixed_size(schema));
      node.fixed_size = node.min_width;
      break;
    case AVRO_ENUM:
      leaf(Op::kEnum, 1);
      for (int i = 0; i < avro_schema_enum_number_of_symbols(schema); ++i) {
        node.symbols.emplace_back(avro_schema_enum_get(schema, i));
      }
      break;
    case AVRO_RECORD:
      node.op = Op::kRecord;
      for (std::size_t i = 0; i < avro_schema_record_size(schema); ++i) {
        const int f = static_cast<int>(i);
        const std::string name = avro_schema_record_field_name(schema, f);
        const int child = Compile(avro_schema_record_field_get_by_index(schema, f),
                                  path.empty() ? name : path + "." + name, slots, plan, depth + 1);
        node.children.push_back(child);
        node.min_width += plan.nodes[static_cast<std::size_t>(child)].min_width;
      }
      break;
    case AVRO_ARRAY:
      node.op = Op::kArray;
      node.min_width = 1;
      node.children.push_back(
          Compile(avro_schema_array_items(schema), path, slots, plan, depth + 1));
      break;
    case AVRO_MAP:
      node.op = Op::kMap;
      node.min_width = 1;
      node.children.push_back(
          Compile(avro_schema_map_values(schema), path + ".*", slots, plan, depth + 1));
      break;
    case AVRO_UNION:
      node.op = Op::kUnion;
      node.min_width = 1;
      for (std::size_t i = 0; i < avro_schema_union_size(schema); ++i) {
        node.children.push_back(Compile(avro_schema_union_branch(schema, static_cast<int>(i)), path,
                                        slots, plan, depth + 1));
      }
      break;
    default:
      throw Error::InvalidInput("projection: unsupported schema type at '" + path + "'");
  }
  plan.nodes[static_cast<std::size_t>(index)] = std::move(node);
  return index;
}

// Walks one body; appends wanted values to `out`.
class Walker {
 public:
  Walker(const Plan& plan, const char* begin, const char* end,
         std::vector<std::vector<ProjectedValue>>& out)
      : plan_(plan), p_(begin), end_(end), out_(out) {}

  void Body() {
    Walk(0);
    if (p_ != end_) throw Error::Corruption("trailing bytes after the avro body");
  }

 private:
  [[noreturn]] static void Short() { throw Error::Corruption("avro body is too short"); }

  std::int64_t Long() {
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) Short();
      const auto byte = static_cast<std::uint8_t>(*p_++);
      value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        return static_cast<std::int64_t>(value >> 1) ^ -static_cast<std::int64_t>(value & 1);
      }
    }
    throw Error::Corruption("avro varint longer than 10 bytes");
  }

  std::string_view Take(std::int64_t size) {
    if (size < 0 || size > end_ - p_) Short();
    const std::string_view out(p_, static_cast<std::size_t>(size));
    p_ += size;
    return out;
  }

  void Emit(const Plan::Node& node, std::int64_t number, std::string_view text) {
    if (node.slot >= 0) out_[static_cast<std::size_t>(node.slot)].push_back({number, text});
  }

  // Items of one array or map; map keys are skipped.
  void Items(const Plan::Node& node, bool map) {
    const Plan::Node& item = plan_.nodes[static_cast<std::size_t>(node.children[0])];
    for (;;) {
      std::int64_t count = Long();
      if (count == 0) return;
      if (count < 0) {
        if (count == INT64_MIN) Short();
        count = -count;
        Long();  // the block's size in bytes
      }
      const std::int64_t width = item.min_width + (map ? 1 : 0);
      if (width > 0 ? count > (end_ - p_) / width : count > kMaxZeroWidthItems) Short();
      for (std::int64_t i = 0; i < count; ++i) {
        if (map) Take(Long());
        Walk(node.children[0]);
      }
    }
  }

  void Walk(int index) {
    const Plan::Node& node = plan_.nodes[static_cast<std::size_t>(index)];
    switch (node.op) {
      case Op::kNull:
        return;
      case Op::kBool: {
        const std::string_view byte = Take(1);
        return Emit(node, byte[0] != 0, {});
      }
      case Op::kInt: {
        const std::int64_t number = Long();
        if (number < INT32_MIN || number > INT32_MAX) {
          throw Error::Corruption("avro int out of range");
        }
        return Emit(node, number, {});
      }
      case Op::kLong:
        return Emit(node, Long(), {});
      case Op::kFloat:
        Take(4);
        return;
      case Op::kDouble:
        Take(8);
        return;
      case Op::kBytes: {
        const std::string_view text = Take(Long());
        return Emit(node, 0, text);
      }
      case Op::kFixed:
        return Emit(node, 0, Take(node.fixed_size));
      case Op::kEnum: {
        const std::int64_t symbol = Long();
        if (symbol < 0 || symbol >= static_cast<std::int64_t>(node.symbols.size())) {
          throw Error::Corruption("avro enum index out of range");
        }
        return Emit(node, symbol, node.symbols[static_cast<std::size_t>(symbol)]);
      }
      case Op::kRecord:
        for (int child : node.children) Walk(child);
        return;
      case Op::kArray:
      case Op::kMap:
        return Items(node, node.op == Op::kMap);
      case Op::kUnion: {
        const std::int64_t branch = Long();
        if (branch < 0 || branch >= static_cast<std::int64_t>(node.children.size())) {
          throw Error::Corruption("avro union branch out of range");
        }
        return Walk(node.children[static_cast<std::size_t>(branch)]);
      }
    }
  }

  const Plan& plan_;
  const char* p_;
  const char* end_;
  std::vector<std::vector<ProjectedValue>>& out_;
};

// The kind of a writer schema: a builtin's, or the builtin whose name a registered schema has.
RecordKind KindOf(std::uint64_t fingerprint, avro_schema_t schema) {
  for (const SchemaInfo& info : BuiltinSchemas()) {
    if (info.fingerprint == fingerprint) return info.kind;
  }
  const std::string name = avro_schema_name(schema);
  for (const SchemaInfo& info : BuiltinSchemas()) {
    if (info.name == "carehub.v1." + name || info.name == name) return info.kind;
  }
  throw Error::Corruption("writer schema " + name + " is not a carehub record");
}

}  // namespace

ProjectionReader::ProjectionReader(std::vector<std::string> paths)
    : paths_(std::move(paths)), values_(paths_.size()) {}

ProjectionReader::~ProjectionReader() = default;

const ProjectionReader::Plan& ProjectionReader::PlanFor(std::uint64_t fingerprint) {
  const auto found = plans_.find(fingerprint);
  if (found != plans_.end()) return *found->second;
  const auto json = SchemaJsonByFingerprint(fingerprint);
  if (!json) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fingerprint));
    throw Error::Corruption(std::string("unknown writer schema fingerprint ") + hex);
  }
  const avro::Schema schema = avro::Schema::FromJson(*json);
  std::map<std::string, int> slots;
  for (std::size_t i = 0; i < paths_.size(); ++i) slots[paths_[i]] = static_cast<int>(i);
  auto plan = std::make_unique<Plan>();
  plan->kind = KindOf(fingerprint, schema.get());
  Compile(schema.get(), "", slots, *plan);
  return *plans_.emplace(fingerprint, std::move(plan)).first->second;
}

void ProjectionReader::Read(std::string_view single_object) {
  const auto fingerprint = SingleObjectFingerprint(single_object);
  if (!fingerprint) throw Error::Corruption("not an Avro single object (bad magic or too short)");
  const Plan& plan = PlanFor(*fingerprint);
  for (auto& values : values_) values.clear();
  kind_ = plan.kind;
  Walker(plan, single_object.data() + kHeaderSize, single_object.data() + single_object.size(),
         values_)
      .Body();
}

}  // namespace carehub
