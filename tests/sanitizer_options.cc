// Sanitizer defaults for every test executable (compiled into each, so no environment is
// needed). allocator_may_return_null: corrupt-input tests make Avro C attempt huge
// allocations, which must fail with an error, as they do outside ASan.
// The suppression: Avro C 1.11.1 leaks the partly read buffer when avro_value_read fails on a
// truncated or corrupt body (CodecTest.GarbageNeverCrashesTheDecoder).
extern "C" const char* __asan_default_options() {
  return "detect_leaks=1:allocator_may_return_null=1";
}
extern "C" const char* __lsan_default_suppressions() { return "leak:libavro.so\n"; }
