/*
 * Compiled fast path of tbplateau's event-file scanner.
 *
 * Same contract as tbplateau/reader/_scan_py.py (the reference implementation,
 * which documents it); tests check that both give identical results on every
 * test file. The scanner walks TFRecord framing, checks the masked CRC-32C of the
 * length and of the data, decodes the protobuf wire format of each Event by hand
 * and packs the scalar points into flat little-endian arrays.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- CRC-32C */

static uint32_t crc_table[8][256];

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = crc_table[0][i];
        for (int t = 1; t < 8; t++) {
            c = crc_table[0][c & 0xFF] ^ (c >> 8);
            crc_table[t][i] = c;
        }
    }
}

static uint32_t crc32c(const uint8_t *p, size_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    while (n && ((uintptr_t)p & 7)) {
        crc = crc_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
        n--;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint32_t lo = (uint32_t)w ^ crc, hi = (uint32_t)(w >> 32);
        crc = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^
              crc_table[5][(lo >> 16) & 0xFF] ^ crc_table[4][lo >> 24] ^
              crc_table[3][hi & 0xFF] ^ crc_table[2][(hi >> 8) & 0xFF] ^
              crc_table[1][(hi >> 16) & 0xFF] ^ crc_table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) crc = crc_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

static uint32_t masked_crc(const uint8_t *p, size_t n) {
    uint32_t c = crc32c(p, n);
    return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

static uint32_t rd32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v; /* little-endian hosts only; checked at import */
}
static uint64_t rd64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* ---------------------------------------------------------------- buffers */

typedef struct {
    char *data;
    size_t len, cap;
} Buf;

static int buf_put(Buf *b, const void *src, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n) cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
    return 0;
}

/* ---------------------------------------------------------------- wire format */

typedef struct {
    const uint8_t *p, *end;
    int err;
} Rd;

static uint64_t rd_varint(Rd *r) {
    uint64_t result = 0;
    int shift = 0;
    for (;;) {
        if (r->p >= r->end || shift >= 70) {
            r->err = 1;
            return 0;
        }
        uint8_t b = *r->p++;
        if (shift < 64) result |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) return result;
        shift += 7;
    }
}

/* One field: number, wire type; for wire 0 `v` is the value, else [a, b) its bytes. */
typedef struct {
    uint64_t num;
    int wire;
    uint64_t v;
    const uint8_t *a, *b;
} Field;

/* Returns 1 when a field was read, 0 at the end, -1 on a malformed message. */
static int next_field(Rd *r, Field *f) {
    if (r->p >= r->end) return 0;
    uint64_t key = rd_varint(r);
    if (r->err) return -1;
    f->num = key >> 3;
    f->wire = (int)(key & 7);
    if (f->num == 0) return -1;
    switch (f->wire) {
    case 0:
        f->v = rd_varint(r);
        if (r->err) return -1;
        return 1;
    case 2: {
        uint64_t n = rd_varint(r);
        if (r->err) return -1;
        if (n > (uint64_t)(r->end - r->p)) return -1;
        f->a = r->p;
        f->b = r->p + n;
        r->p += n;
        return 1;
    }
    case 1:
        if (r->end - r->p < 8) return -1;
        f->a = r->p;
        f->b = r->p + 8;
        r->p += 8;
        return 1;
    case 5:
        if (r->end - r->p < 4) return -1;
        f->a = r->p;
        f->b = r->p + 4;
        r->p += 4;
        return 1;
    default:
        return -1;
    }
}

static double half_to_double(uint32_t bits) {
    uint32_t h = bits & 0xFFFF;
    int s = h >> 15, e = (h >> 10) & 0x1F, m = h & 0x3FF;
    double v;
    if (e == 0)
        v = ldexp((double)m, -24);
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexp((double)(m + 1024), e - 25);
    return s ? -v : v;
}

static double bf16_to_double(uint32_t bits) {
    uint32_t u = (bits & 0xFFFF) << 16;
    float f;
    memcpy(&f, &u, 4);
    return (double)f;
}

static double f32_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return (double)f;
}

enum {
    DT_FLOAT = 1, DT_DOUBLE = 2, DT_INT32 = 3, DT_UINT8 = 4, DT_INT16 = 5, DT_INT8 = 6,
    DT_INT64 = 9, DT_BOOL = 10, DT_BFLOAT16 = 14, DT_UINT16 = 17, DT_HALF = 19,
    DT_UINT32 = 22, DT_UINT64 = 23
};

static int value_field(uint64_t dt) {
    switch (dt) {
    case DT_FLOAT: return 5;
    case DT_DOUBLE: return 6;
    case DT_INT32: case DT_UINT8: case DT_INT16: case DT_INT8: case DT_UINT16: return 7;
    case DT_INT64: return 10;
    case DT_BOOL: return 11;
    case DT_HALF: case DT_BFLOAT16: return 13;
    case DT_UINT32: return 16;
    case DT_UINT64: return 17;
    default: return 0;
    }
}

/* Decodes a rank-0 numeric TensorProto. Returns 1 and sets *out if it is one,
 * 0 if it is not, -1 if malformed. */
static int tensor_scalar(const uint8_t *a, const uint8_t *b, double *out) {
    Rd r = {a, b, 0};
    Field f;
    int k;
    uint64_t dtype = 0;
    int rank0 = 1;
    const uint8_t *ca = NULL, *cb = NULL;
    while ((k = next_field(&r, &f)) == 1) {
        if (f.num == 1 && f.wire == 0) {
            dtype = f.v;
        } else if (f.num == 2 && f.wire == 2) {
            Rd s = {f.a, f.b, 0};
            Field g;
            int j;
            while ((j = next_field(&s, &g)) == 1) {
                if (g.num == 2 && g.wire == 2) rank0 = 0;
                else if (g.num == 3 && g.wire == 0 && g.v != 0) rank0 = 0;
            }
            if (j < 0) return -1;
        } else if (f.num == 4 && f.wire == 2) {
            ca = f.a;
            cb = f.b;
        }
    }
    if (k < 0) return -1;
    int vf = value_field(dtype);
    if (!rank0 || !vf) return 0;
    if (ca && cb > ca) {
        size_t n = (size_t)(cb - ca);
        switch (dtype) {
        case DT_HALF: *out = n < 2 ? 0.0 : half_to_double((uint32_t)ca[0] | ((uint32_t)ca[1] << 8)); return 1;
        case DT_BFLOAT16: *out = n < 2 ? 0.0 : bf16_to_double((uint32_t)ca[0] | ((uint32_t)ca[1] << 8)); return 1;
        case DT_FLOAT: *out = n < 4 ? 0.0 : f32_bits(rd32(ca)); return 1;
        case DT_DOUBLE: {
            if (n < 8) { *out = 0.0; return 1; }
            double d;
            memcpy(&d, ca, 8);
            *out = d;
            return 1;
        }
        case DT_INT32: *out = n < 4 ? 0.0 : (double)(int32_t)rd32(ca); return 1;
        case DT_UINT32: *out = n < 4 ? 0.0 : (double)rd32(ca); return 1;
        case DT_INT64: *out = n < 8 ? 0.0 : (double)(int64_t)rd64(ca); return 1;
        case DT_UINT64: *out = n < 8 ? 0.0 : (double)rd64(ca); return 1;
        case DT_INT16: *out = n < 2 ? 0.0 : (double)(int16_t)((uint16_t)ca[0] | ((uint16_t)ca[1] << 8)); return 1;
        case DT_UINT16: *out = n < 2 ? 0.0 : (double)((uint16_t)ca[0] | ((uint16_t)ca[1] << 8)); return 1;
        case DT_INT8: *out = (double)(int8_t)ca[0]; return 1;
        case DT_UINT8: case DT_BOOL: *out = (double)ca[0]; return 1;
        default: return 0;
        }
    }
    /* First element of the repeated value field, packed or not. */
    Rd r2 = {a, b, 0};
    int found = 0;
    uint64_t raw = 0;
    while (!found && (k = next_field(&r2, &f)) == 1) {
        if (f.num != (uint64_t)vf) continue;
        if (f.wire == 0) {
            raw = f.v;
            found = 1;
        } else if (f.wire == 5) {
            raw = rd32(f.a);
            found = 1;
        } else if (f.wire == 1) {
            raw = rd64(f.a);
            found = 1;
        } else if (f.wire == 2 && f.b > f.a) {
            size_t n = (size_t)(f.b - f.a);
            if (vf == 5) {
                if (n >= 4) { raw = rd32(f.a); found = 1; } else { found = 2; }
            } else if (vf == 6) {
                if (n >= 8) { raw = rd64(f.a); found = 1; } else { found = 2; }
            } else {
                Rd v = {f.a, f.b, 0};
                raw = rd_varint(&v);
                if (v.err) return -1;
                found = 1;
            }
        }
    }
    if (found != 1) {
        *out = 0.0;
        return 1;
    }
    switch (dtype) {
    case DT_FLOAT: *out = f32_bits((uint32_t)raw); break;
    case DT_DOUBLE: { double d; memcpy(&d, &raw, 8); *out = d; break; }
    case DT_HALF: *out = half_to_double((uint32_t)raw); break;
    case DT_BFLOAT16: *out = bf16_to_double((uint32_t)raw); break;
    case DT_INT32: case DT_INT16: case DT_INT8: *out = (double)(int32_t)(uint32_t)raw; break;
    case DT_UINT8: case DT_UINT16: case DT_UINT32: *out = (double)(uint32_t)raw; break;
    case DT_INT64: *out = (double)(int64_t)raw; break;
    case DT_BOOL: *out = raw ? 1.0 : 0.0; break;
    default: *out = (double)raw; break;
    }
    return 1;
}

/* Plugin name of a SummaryMetadata: 1 and [*na, *nb) if well formed, -1 otherwise. */
static int plugin_name(const uint8_t *a, const uint8_t *b, const uint8_t **na, const uint8_t **nb) {
    Rd r = {a, b, 0};
    Field f;
    int k;
    *na = *nb = a;
    while ((k = next_field(&r, &f)) == 1) {
        if (f.num == 1 && f.wire == 2) {
            Rd s = {f.a, f.b, 0};
            Field g;
            int j;
            while ((j = next_field(&s, &g)) == 1) {
                if (g.num == 1 && g.wire == 2) {
                    *na = g.a;
                    *nb = g.b;
                }
            }
            if (j < 0) return -1;
        }
    }
    return k < 0 ? -1 : 1;
}

/* ---------------------------------------------------------------- event decoding */

#define KIND_NONE 0
#define KIND_HISTOGRAM 1
#define KIND_IMAGE 2
#define KIND_AUDIO 3
#define KIND_TENSOR 4
#define K_SIMPLE (-1)
#define K_TSCALAR (-2)

typedef struct {
    const uint8_t *tag_a, *tag_b;
    int kind;
    double value;
    int has_plugin;
    const uint8_t *pa, *pb;
} Decoded;

typedef struct {
    Buf tag_ids, steps, walls, values, encs, others;
    long records, session_starts, foreign;
    long long first_foreign;
    long long rec_offset; /* file offset of the record being decoded */
    PyObject *file_version; /* new reference or NULL */
    /* shared Python state */
    PyObject *tag_index, *tag_names, *tag_offsets, *plugins;
    /* tag cache: last hit, to avoid dict lookups on repeating tag sequences */
    Py_ssize_t last_tid;
    Decoded *dec;
    size_t dec_cap;
} Out;

static int dec_push(Out *o, size_t *n, const Decoded *d) {
    if (*n >= o->dec_cap) {
        size_t cap = o->dec_cap ? o->dec_cap * 2 : 16;
        Decoded *nd = realloc(o->dec, cap * sizeof(Decoded));
        if (!nd) return -1;
        o->dec = nd;
        o->dec_cap = cap;
    }
    o->dec[(*n)++] = *d;
    return 0;
}

static int tag_matches(PyObject *names, Py_ssize_t tid, const uint8_t *a, const uint8_t *b) {
    if (tid < 0 || tid >= PyList_GET_SIZE(names)) return 0;
    PyObject *t = PyList_GET_ITEM(names, tid);
    Py_ssize_t n = PyBytes_GET_SIZE(t);
    return n == (Py_ssize_t)(b - a) && memcmp(PyBytes_AS_STRING(t), a, (size_t)n) == 0;
}

/* Interns a tag; returns its id or -1 on a Python error. */
static Py_ssize_t intern_tag(Out *o, const uint8_t *a, const uint8_t *b) {
    Py_ssize_t guess = o->last_tid + 1;
    if (tag_matches(o->tag_names, guess, a, b)) return o->last_tid = guess;
    if (tag_matches(o->tag_names, 0, a, b)) return o->last_tid = 0;
    if (tag_matches(o->tag_names, o->last_tid, a, b)) return o->last_tid;
    PyObject *key = PyBytes_FromStringAndSize((const char *)a, b - a);
    if (!key) return -1;
    PyObject *v = PyDict_GetItemWithError(o->tag_index, key);
    Py_ssize_t tid;
    if (v) {
        tid = PyLong_AsSsize_t(v);
    } else {
        if (PyErr_Occurred()) { Py_DECREF(key); return -1; }
        tid = PyList_GET_SIZE(o->tag_names);
        PyObject *idx = PyLong_FromSsize_t(tid);
        PyObject *off = PyLong_FromLongLong(o->rec_offset);
        if (!idx || !off || PyDict_SetItem(o->tag_index, key, idx) < 0 ||
            PyList_Append(o->tag_names, key) < 0 || PyList_Append(o->tag_offsets, off) < 0) {
            Py_XDECREF(idx);
            Py_XDECREF(off);
            Py_DECREF(key);
            return -1;
        }
        Py_DECREF(idx);
        Py_DECREF(off);
    }
    Py_DECREF(key);
    return o->last_tid = tid;
}

/* Decodes one Event. Returns 0 on success, 1 if malformed (nothing emitted),
 * -1 on a Python error. */
static int parse_event(Out *o, const uint8_t *a, const uint8_t *b, const char **why) {
    Rd r = {a, b, 0};
    Field f;
    int k;
    double wall = 0.0;
    int64_t step = 0;
    const uint8_t *fva = NULL, *fvb = NULL;
    int session_start = 0;
    int event_like = 0;
    /* First pass over the Event: scalars and the position of its parts. */
    int nsum = 0;
    while ((k = next_field(&r, &f)) == 1) {
        if (f.num >= 1 && f.num <= 10 && f.wire == (f.num == 1 ? 1 : f.num == 2 ? 0 : 2)) event_like = 1;
        if (f.num == 1 && f.wire == 1) {
            memcpy(&wall, f.a, 8);
        } else if (f.num == 2 && f.wire == 0) {
            step = (int64_t)f.v;
        } else if (f.num == 5 && f.wire == 2) {
            nsum++;
        } else if (f.num == 3 && f.wire == 2) {
            fva = f.a;
            fvb = f.b;
        } else if (f.num == 7 && f.wire == 2) {
            Rd s = {f.a, f.b, 0};
            Field g;
            int j;
            while ((j = next_field(&s, &g)) == 1)
                if (g.num == 1 && g.wire == 0) session_start = g.v == 1;
            if (j < 0) { *why = "varint runs past its field"; return 1; }
        }
    }
    if (k < 0) { *why = "malformed Event"; return 1; }
    size_t ndec = 0;
    if (nsum) {
        Rd e = {a, b, 0};
        while (next_field(&e, &f) == 1) {
            if (!(f.num == 5 && f.wire == 2)) continue;
            Rd s = {f.a, f.b, 0};
            Field g;
            int j;
            while ((j = next_field(&s, &g)) == 1) {
                if (!(g.num == 1 && g.wire == 2)) continue;
                Decoded d;
                memset(&d, 0, sizeof d);
                d.tag_a = d.tag_b = g.a;
                d.kind = KIND_NONE;
                const uint8_t *ta = NULL, *tb = NULL, *ma = NULL, *mb = NULL;
                Rd v = {g.a, g.b, 0};
                Field h;
                int m;
                while ((m = next_field(&v, &h)) == 1) {
                    switch (h.num) {
                    case 1: if (h.wire == 2) { d.tag_a = h.a; d.tag_b = h.b; } break;
                    case 2: if (h.wire == 5) { d.kind = K_SIMPLE; d.value = f32_bits(rd32(h.a)); } break;
                    case 3: case 5: if (h.wire == 2) d.kind = KIND_HISTOGRAM; break;
                    case 4: if (h.wire == 2) d.kind = KIND_IMAGE; break;
                    case 6: if (h.wire == 2) d.kind = KIND_AUDIO; break;
                    case 8: if (h.wire == 2) { d.kind = KIND_TENSOR; ta = h.a; tb = h.b; } break;
                    case 9: if (h.wire == 2) { ma = h.a; mb = h.b; } break;
                    default: break;
                    }
                }
                if (m < 0) { *why = "malformed Summary.Value"; return 1; }
                if (ma) {
                    if (plugin_name(ma, mb, &d.pa, &d.pb) < 0) { *why = "malformed SummaryMetadata"; return 1; }
                    d.has_plugin = 1;
                }
                if (d.kind == KIND_TENSOR && ta) {
                    double x;
                    int t = tensor_scalar(ta, tb, &x);
                    if (t < 0) { *why = "malformed TensorProto"; return 1; }
                    if (t == 1) { d.kind = K_TSCALAR; d.value = x; }
                }
                if (dec_push(o, &ndec, &d) < 0) { PyErr_NoMemory(); return -1; }
            }
            if (j < 0) { *why = "malformed Summary"; return 1; }
        }
    }
    /* Well formed: emit. */
    o->records++;
    if (!event_like) {
        if (!o->foreign) o->first_foreign = o->rec_offset;
        o->foreign++;
    }
    if (session_start) o->session_starts++;
    if (fva && !o->file_version) {
        o->file_version = PyUnicode_DecodeUTF8((const char *)fva, fvb - fva, "replace");
        if (!o->file_version) return -1;
    }
    for (size_t i = 0; i < ndec; i++) {
        Decoded *d = &o->dec[i];
        Py_ssize_t tid = intern_tag(o, d->tag_a, d->tag_b);
        if (tid < 0) return -1;
        if (d->has_plugin) {
            PyObject *key = PyLong_FromSsize_t(tid);
            if (!key) return -1;
            int has = PyDict_Contains(o->plugins, key);
            if (has < 0) { Py_DECREF(key); return -1; }
            if (!has) {
                PyObject *name = PyBytes_FromStringAndSize((const char *)d->pa, d->pb - d->pa);
                if (!name || PyDict_SetItem(o->plugins, key, name) < 0) {
                    Py_XDECREF(name);
                    Py_DECREF(key);
                    return -1;
                }
                Py_DECREF(name);
            }
            Py_DECREF(key);
        }
        int32_t t32 = (int32_t)tid;
        if (d->kind < 0) {
            uint8_t enc = d->kind == K_SIMPLE ? 0 : 1;
            if (buf_put(&o->tag_ids, &t32, 4) || buf_put(&o->steps, &step, 8) ||
                buf_put(&o->walls, &wall, 8) || buf_put(&o->values, &d->value, 8) ||
                buf_put(&o->encs, &enc, 1)) {
                PyErr_NoMemory();
                return -1;
            }
        } else {
            int32_t kind = d->kind;
            if (buf_put(&o->others, &t32, 4) || buf_put(&o->others, &kind, 4)) {
                PyErr_NoMemory();
                return -1;
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- framing */

#define MAX_RECORD_BYTES ((uint64_t)256 << 20) /* = _scan_py.MAX_RECORD_BYTES */
enum { ST_SHORT = 0, ST_BAD_HEADER = 1, ST_TOO_LONG = 2, ST_INCOMPLETE = 3, ST_BAD_DATA = 4, ST_FOUND = 5 };

static int add_issue(PyObject *issues, long long off, const char *problem, PyObject *msg) {
    if (!msg) return -1;
    PyObject *t = Py_BuildValue("(LsN)", off, problem, msg);
    if (!t) return -1;
    int rc = PyList_Append(issues, t);
    Py_DECREF(t);
    return rc;
}

static int header_ok(const uint8_t *p) { return masked_crc(p, 8) == rd32(p + 8); }

static int data_ok(const uint8_t *p, uint64_t len) {
    return masked_crc(p + 12, (size_t)len) == rd32(p + 12 + len);
}

static PyObject *take(Buf *b) {
    PyObject *r = PyBytes_FromStringAndSize(b->data ? b->data : "", (Py_ssize_t)b->len);
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    return r;
}

static void out_free(Out *o) {
    free(o->tag_ids.data); free(o->steps.data); free(o->walls.data);
    free(o->values.data); free(o->encs.data); free(o->others.data);
    free(o->dec);
    Py_XDECREF(o->file_version);
}

/* walk(buf, pos, base, tag_index, tag_names, tag_offsets, plugins): see _scan_py.walk. */
static PyObject *py_walk(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    Py_ssize_t pos;
    long long base;
    PyObject *tag_index, *tag_names, *tag_offsets, *plugins;
    if (!PyArg_ParseTuple(args, "y*nLO!O!O!O!", &view, &pos, &base, &PyDict_Type, &tag_index,
                          &PyList_Type, &tag_names, &PyList_Type, &tag_offsets, &PyDict_Type, &plugins))
        return NULL;
    const uint8_t *buf = view.buf;
    size_t n = (size_t)view.len;
    Out o;
    memset(&o, 0, sizeof o);
    o.tag_index = tag_index;
    o.tag_names = tag_names;
    o.tag_offsets = tag_offsets;
    o.plugins = plugins;
    o.last_tid = -1;
    o.first_foreign = -1;
    PyObject *issues = PyList_New(0);
    if (!issues) goto fail;
    if (pos < 0 || (size_t)pos > n) {
        PyErr_SetString(PyExc_ValueError, "pos outside the buffer");
        goto fail;
    }
    size_t p = (size_t)pos;
    int status;
    uint64_t len = 0;
    for (;;) {
        if (n - p < 12) { status = ST_SHORT; break; }
        if (!header_ok(buf + p)) { status = ST_BAD_HEADER; break; }
        len = rd64(buf + p);
        if (len > MAX_RECORD_BYTES) { status = ST_TOO_LONG; break; }
        if (n - p < 16 || n - p - 16 < len) { status = ST_INCOMPLETE; break; }
        if (!data_ok(buf + p, len)) { status = ST_BAD_DATA; break; }
        const char *why = NULL;
        o.rec_offset = base + (long long)p;
        int rc = parse_event(&o, buf + p + 12, buf + p + 12 + len, &why);
        if (rc < 0) goto fail;
        if (rc == 1) {
            if (add_issue(issues, base + (long long)p, "corrupt",
                          PyUnicode_FromFormat("unparsable Event in the record at offset %lld; record skipped", base + (long long)p)) < 0)
                goto fail;
        }
        p += 16 + len;
        len = 0;
    }
    PyBuffer_Release(&view);
    PyObject *fv = o.file_version ? o.file_version : Py_None;
    Py_INCREF(fv);
    PyObject *res = Py_BuildValue("(niKNNNNNNNllNlL)", (Py_ssize_t)p, status, (unsigned long long)len,
                                  take(&o.tag_ids), take(&o.steps), take(&o.walls), take(&o.values),
                                  take(&o.encs), take(&o.others), issues, o.records, o.session_starts, fv,
                                  o.foreign, o.first_foreign);
    out_free(&o);
    return res;
fail:
    PyBuffer_Release(&view);
    Py_XDECREF(issues);
    out_free(&o);
    return NULL;
}

/* Cache of the masked CRC of one 8-byte length value: runs of equal lengths (zeros
 * above all) then cost one compare per offset. */
typedef struct { uint64_t len; uint32_t crc; int valid; } HdrCache;

static int header_ok_cached(const uint8_t *p, uint64_t len, HdrCache *c) {
    if (!c->valid || c->len != len) {
        c->len = len;
        c->crc = masked_crc(p, 8);
        c->valid = 1;
    }
    return c->crc == rd32(p + 8);
}

/* find(buf, pos) -> (q, status, length): see _scan_py.find. */
static PyObject *py_find(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    Py_ssize_t pos;
    if (!PyArg_ParseTuple(args, "y*n", &view, &pos)) return NULL;
    const uint8_t *buf = view.buf;
    size_t n = (size_t)view.len;
    if (pos < 0 || (size_t)pos > n) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "pos outside the buffer");
        return NULL;
    }
    size_t q = (size_t)pos;
    int status = ST_SHORT;
    uint64_t len = 0;
    HdrCache cache = {0, 0, 0};
    Py_BEGIN_ALLOW_THREADS
    while (n >= 12 && q <= n - 12) {
        /* A plausible length (at most MAX_RECORD_BYTES < 2^32) has zero bytes 4..7:
         * a nonzero byte at q+k rules out the offsets q .. q+k-4. */
        if (buf[q + 7]) { q += 4; continue; }
        if (buf[q + 6]) { q += 3; continue; }
        if (buf[q + 5]) { q += 2; continue; }
        if (buf[q + 4]) { q += 1; continue; }
        len = rd64(buf + q);
        if (len > MAX_RECORD_BYTES) { q++; continue; }
        if (len == 0 && rd32(buf + q + 8) == 0) {
            /* twelve zero bytes are never a header: skip the whole run of zeros */
            size_t r = q + 12;
            while (r + 8 <= n && rd64(buf + r) == 0) r += 8;
            while (r < n && buf[r] == 0) r++;
            q = r - 11;
            continue;
        }
        if (!header_ok_cached(buf + q, len, &cache)) { q++; continue; }
        if (n - q < 16 || n - q - 16 < len) { status = ST_INCOMPLETE; break; }
        if (data_ok(buf + q, len)) { status = ST_FOUND; break; }
        q++;
    }
    if (status == ST_SHORT) {
        len = 0;
        q = n >= 11 && n - 11 > (size_t)pos ? n - 11 : (size_t)pos;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return Py_BuildValue("(niK)", (Py_ssize_t)q, status, (unsigned long long)len);
}

static PyObject *py_masked_crc32c(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view)) return NULL;
    uint32_t c;
    Py_BEGIN_ALLOW_THREADS
    c = masked_crc(view.buf, (size_t)view.len);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(c);
}

static PyMethodDef methods[] = {
    {"walk", py_walk, METH_VARARGS, "Read consecutive valid records; see tbplateau.reader._scan_py.walk."},
    {"find", py_find, METH_VARARGS, "Search for the next valid record; see tbplateau.reader._scan_py.find."},
    {"masked_crc32c", py_masked_crc32c, METH_VARARGS, "Masked CRC-32C as stored by TFRecord."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastscan", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__fastscan(void) {
    uint16_t one = 1;
    if (*(uint8_t *)&one != 1) {
        PyErr_SetString(PyExc_ImportError, "_fastscan supports little-endian hosts only");
        return NULL;
    }
    crc_init();
    return PyModule_Create(&module);
}
