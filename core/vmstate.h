/* vmstate.h: field tables describing device and CPU state, and the snapshot file format. */
#ifndef ANYVM_CORE_VMSTATE_H
#define ANYVM_CORE_VMSTATE_H

#include <stddef.h>
#include <stdint.h>

typedef enum VMFieldType {
    VMF_U8, VMF_U16, VMF_U32, VMF_U64, VMF_I32, VMF_I64, VMF_BOOL,
    VMF_BUFFER,   /* size bytes, raw */
    VMF_TIMER,    /* a Timer: its deadline (armed or not) */
    VMF_STRUCT,   /* a nested VMStateDesc at offset, count elements of elem_size */
} VMFieldType;

typedef struct VMStateDesc VMStateDesc;

/* VMStateField: one piece of state at `offset` in the owner's struct; `count` > 1 is an
 * array of elements each `elem_size` bytes apart (elem_size 0 = natural size). */
typedef struct VMStateField {
    const char *name;
    VMFieldType type;
    size_t offset;
    size_t size;        /* VMF_BUFFER: bytes */
    uint32_t count;     /* array length, 0 or 1 for a scalar */
    size_t elem_size;
    const VMStateDesc *sub; /* VMF_STRUCT */
} VMStateField;

/* VMStateDesc: a named, versioned table ending with a field whose name is NULL.
 * post_load runs after a successful load (recompute derived state, re-map BARs). */
struct VMStateDesc {
    const char *name;
    uint32_t version;
    const VMStateField *fields;
    int (*post_load)(void *opaque);
};

#define VMSTATE_U8(st, f) {#f, VMF_U8, offsetof(st, f), 1, 1, 0, NULL}
#define VMSTATE_U16(st, f) {#f, VMF_U16, offsetof(st, f), 2, 1, 0, NULL}
#define VMSTATE_U32(st, f) {#f, VMF_U32, offsetof(st, f), 4, 1, 0, NULL}
#define VMSTATE_U64(st, f) {#f, VMF_U64, offsetof(st, f), 8, 1, 0, NULL}
#define VMSTATE_I32(st, f) {#f, VMF_I32, offsetof(st, f), 4, 1, 0, NULL}
#define VMSTATE_I64(st, f) {#f, VMF_I64, offsetof(st, f), 8, 1, 0, NULL}
#define VMSTATE_BOOL(st, f) {#f, VMF_BOOL, offsetof(st, f), sizeof(bool), 1, 0, NULL}
#define VMSTATE_U8_ARRAY(st, f, n) {#f, VMF_U8, offsetof(st, f), 1, (n), 1, NULL}
#define VMSTATE_U16_ARRAY(st, f, n) {#f, VMF_U16, offsetof(st, f), 2, (n), 2, NULL}
#define VMSTATE_U32_ARRAY(st, f, n) {#f, VMF_U32, offsetof(st, f), 4, (n), 4, NULL}
#define VMSTATE_U64_ARRAY(st, f, n) {#f, VMF_U64, offsetof(st, f), 8, (n), 8, NULL}
#define VMSTATE_BUFFER(st, f) {#f, VMF_BUFFER, offsetof(st, f), sizeof(((st *)0)->f), 1, 0, NULL}
#define VMSTATE_TIMER(st, f) {#f, VMF_TIMER, offsetof(st, f), 0, 1, 0, NULL}
#define VMSTATE_STRUCT(st, f, desc, type) {#f, VMF_STRUCT, offsetof(st, f), sizeof(type), 1, sizeof(type), &(desc)}
#define VMSTATE_STRUCT_ARRAY(st, f, n, desc, type) {#f, VMF_STRUCT, offsetof(st, f), sizeof(type), (n), sizeof(type), &(desc)}
#define VMSTATE_END {NULL, 0, 0, 0, 0, 0, NULL}

#define VMSTATE_MAX_ENTRIES 64

/* VMStateRegistry: every registered (desc, instance) pair of a machine, saved in order. */
typedef struct VMStateRegistry {
    struct VMStateEntry {
        char id[48];            /* unique instance id, e.g. "pic0", "serial@3f8" */
        const VMStateDesc *desc;
        void *opaque;
    } entries[VMSTATE_MAX_ENTRIES];
    int n;
} VMStateRegistry;

void vmstate_registry_init(VMStateRegistry *r);

/* vmstate_register: add an instance; id must be unique. Returns 0, -EEXIST or -ENOSPC. */
int vmstate_register(VMStateRegistry *r, const char *id, const VMStateDesc *desc, void *opaque)
    __attribute__((warn_unused_result));

/* vmstate_save_file / vmstate_load_file: the whole registry to/from path. The file: magic
 * "ANYVMSNP", format version, then per entry id, desc name, desc version and field records,
 * and a CRC-32 trailer over everything before it. Save writes a temporary file and renames it,
 * so a failed save never destroys an older snapshot. Load validates everything (magic, version,
 * CRC, every length, every id/field name) before it changes any state, so a corrupt or
 * truncated file leaves the machine untouched. Both return 0 or -errno (-EINVAL for a bad file),
 * with a message in err. */
int vmstate_save_file(const VMStateRegistry *r, const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));
int vmstate_load_file(VMStateRegistry *r, const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* In-memory variants used by the file functions and by tests. save allocates *buf (caller
 * frees). */
int vmstate_save_buf(const VMStateRegistry *r, uint8_t **buf, size_t *len)
    __attribute__((warn_unused_result));
int vmstate_load_buf(VMStateRegistry *r, const uint8_t *buf, size_t len, char *err,
                     size_t errlen) __attribute__((warn_unused_result));

/* crc32_ieee: the zlib/PNG CRC-32 of a buffer, continuing from crc (start with 0). */
uint32_t crc32_ieee(uint32_t crc, const void *buf, size_t len);

#endif
