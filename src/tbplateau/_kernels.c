/*
 * Compiled kernels of tbplateau.stats: the per-block statistics that numpy's per-call
 * overhead makes slow on the short arrays (at most a few hundred blocks) the detectors
 * work on; and best_ab, the elementwise part of explain.forecast's least-squares search.
 *
 * Contract: every kernel gives results identical to the last bit to the numpy code it
 * replaces in stats.py (which stays as the fallback and documents each statistic).
 * Medians are order statistics found by selection (exact whatever the algorithm), then
 * combined with the very expressions numpy uses; the line fits of the segmentation are
 * elementwise arithmetic on cumulative sums computed by numpy, in numpy's order of
 * operations. Where bits could depend on how a sort orders equal values (the sign of a
 * zero median) or numpy would warn (an overflow), a kernel declines (returns None or
 * False) and the caller goes the numpy way. Build with -ffp-contract=off: a fused
 * multiply-add would round differently from numpy.
 *
 * Arrays come through the buffer protocol (float64, any strides; outputs C-contiguous
 * and writable), so no numpy headers are needed at build time.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ buffers */

typedef struct {
    Py_buffer view;
    const char *base;
    Py_ssize_t n;      /* length of a 1-D array, rows of a 2-D one */
    Py_ssize_t cols;   /* columns of a 2-D array (1 for 1-D) */
    Py_ssize_t stride; /* bytes between rows (1-D: between values) */
    Py_ssize_t cstride;
} Arr;

static int is_double(const Py_buffer *v) {
    return v->itemsize == 8 && v->format != NULL &&
           (strcmp(v->format, "d") == 0 || strcmp(v->format, "<d") == 0 ||
            strcmp(v->format, "=d") == 0);
}

/* A read-only float64 array of ``ndim`` dimensions (any strides). */
static int get_in(PyObject *obj, int ndim, Arr *a) {
    if (PyObject_GetBuffer(obj, &a->view, PyBUF_RECORDS_RO) < 0) return -1;
    if (a->view.ndim != ndim || !is_double(&a->view)) {
        PyBuffer_Release(&a->view);
        PyErr_Format(PyExc_TypeError, "expected a %d-D float64 array", ndim);
        return -1;
    }
    a->base = (const char *)a->view.buf;
    a->n = a->view.shape[0];
    a->stride = a->view.strides[0];
    a->cols = ndim == 2 ? a->view.shape[1] : 1;
    a->cstride = ndim == 2 ? a->view.strides[1] : 8;
    return 0;
}

/* Like get_in, but 0 (no exception) when ``obj`` is no such array: the caller declines. */
static int try_in(PyObject *obj, int ndim, Arr *a) {
    if (get_in(obj, ndim, a) == 0) return 1;
    PyErr_Clear();
    return 0;
}

/* A writable C-contiguous 1-D float64 array of exactly ``n`` values. */
static int get_out(PyObject *obj, Py_ssize_t n, Py_buffer *v) {
    if (PyObject_GetBuffer(obj, v, PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    if (v->ndim != 1 || !is_double(v) || v->shape[0] != n) {
        PyBuffer_Release(v);
        PyErr_Format(PyExc_ValueError, "expected a writable float64 array of %zd values", n);
        return -1;
    }
    return 0;
}

#define AT(a, i) (*(const double *)((a)->base + (i) * (a)->stride))

/* ---------------------------------------------------------------- selection */

static int cmp_index(const void *a, const void *b) {
    Py_ssize_t x = *(const Py_ssize_t *)a, y = *(const Py_ssize_t *)b;
    return (x > y) - (x < y);
}


/* Moves the values of v[0..n) below ``pivot`` (``below``) or not above it (otherwise) to
 * the front, in one pass without a branch on the data (a swap per value, the front
 * growing by the comparison: a mispredicted branch per value or two cost more); returns
 * how many moved. */
static Py_ssize_t split(double *v, Py_ssize_t n, double pivot, int below) {
    Py_ssize_t front = 0;
    for (Py_ssize_t j = 0; j < n; j++) {
        double t = v[j];
        v[j] = v[front];
        v[front] = t;
        front += below ? t < pivot : t <= pivot;
    }
    return front;
}

/* Rearranges v[0..n) so that v[k] is the k-th smallest, everything before it is <= it
 * and everything after >= it (no NaN in v): a quickselect around the median of three
 * values of the range, in three parts (below, equal to, above the pivot: ties cannot stall
 * it), short ranges by insertion. Callers read values, never which of two equal values
 * (a -0.0 or a 0.0) sits where. */
static void select_kth(double *v, Py_ssize_t n, Py_ssize_t k) {
    while (n > 16) {
        double a = v[0], b = v[n / 2], c = v[n - 1];
        double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        Py_ssize_t less = split(v, n, pivot, 1);
        if (k < less) {
            n = less;
            continue;
        }
        Py_ssize_t equal = less + split(v + less, n - less, pivot, 0);
        if (k < equal) return; /* v[less..equal) all equal the pivot */
        v += equal;
        n -= equal;
        k -= equal;
    }
    for (Py_ssize_t i = 1; i < n; i++) { /* insertion sort of the short rest */
        double t = v[i];
        Py_ssize_t j = i - 1;
        while (j >= 0 && v[j] > t) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = t;
    }
}

/* The largest of v[0..n) (n >= 1). */
static double max_of(const double *v, Py_ssize_t n) {
    double m = v[0];
    for (Py_ssize_t i = 1; i < n; i++)
        if (v[i] > m) m = v[i];
    return m;
}

/* The order statistics ``lo`` (the (n - 1) // 2-th smallest) and ``hi`` (the n // 2-th)
 * of v[0..n), n >= 1, no NaN: for odd n both are the middle value. */
static void middle(double *v, Py_ssize_t n, double *lo, double *hi) {
    Py_ssize_t h = n / 2;
    select_kth(v, n, h);
    *hi = v[h];
    *lo = n % 2 ? v[h] : max_of(v, h);
}

/* Copies a strided row into scratch; returns 0 when it holds a NaN. */
static int load(double *dst, const char *src, Py_ssize_t n, Py_ssize_t stride) {
    int ok = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        double x = *(const double *)(src + i * stride);
        if (x != x) ok = 0;
        dst[i] = x;
    }
    return ok;
}

/* out = numpy's median of a row from its middle order statistics: ``hi + 0.0`` (odd w) or
 * ``(lo + 0.0 + hi) / 2``; 0 where numpy would warn (a NaN from -inf and inf, an overflow). */
static int put_median(double *out, double lo, double hi, Py_ssize_t w) {
    double m = w % 2 ? hi + 0.0 : (lo + 0.0 + hi) / 2;
    *out = m;
    return !(m != m || (isinf(m) && isfinite(lo) && isfinite(hi)));
}

/* The first position in sorted v[0..n) whose value is not below x. */
static Py_ssize_t lower_bound(const double *v, Py_ssize_t n, double x) {
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* lower_bound of n >= 1 values (no NaN) without a branch on the data (a conditional add
 * per halving): on wide windows of noisy values half the branches of the search above
 * are mispredicted; on narrow ones, or smooth values, the search above is faster. */
static Py_ssize_t lower_bound_flat(const double *v, Py_ssize_t n, double x) {
    const double *base = v;
    while (n > 1) {
        Py_ssize_t half = n / 2;
        base += (Py_ssize_t)(base[half - 1] < x) * half; /* setcc, not a jump */
        n -= half;
    }
    return (base - v) + (*base < x);
}

/* Medians of the rows of a sliding window view (row r is values r .. r + w - 1 of one
 * strided array): one sorted window, a value out and a value in per row. Which of two
 * equal values leaves never matters (the median is a value of the sorted window, and
 * the sign of a zero median is fixed by numpy's ``+ 0.0``). 0 on a NaN. */
static int sliding_medians(const Arr *a, double *v, double *dst) {
    Py_ssize_t w = a->cols, total = a->n + w - 1;
    for (Py_ssize_t i = 0; i < total; i++) {
        double x = AT(a, i);
        if (x != x) return 0;
    }
    for (Py_ssize_t i = 0; i < w; i++) { /* insertion sort of the first window */
        double t = AT(a, i);
        Py_ssize_t j = i - 1;
        while (j >= 0 && v[j] > t) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = t;
    }
    Py_ssize_t h = w / 2;
    for (Py_ssize_t r = 0;; r++) {
        if (!put_median(dst + r, w % 2 ? v[h] : v[h - 1], v[h], w)) return 0;
        if (r + 1 == a->n) return 1;
        double in = AT(a, r + w);
        if (w < 16) {
            Py_ssize_t out = lower_bound(v, w, AT(a, r));
            memmove(v + out, v + out + 1, (size_t)(w - 1 - out) * sizeof(double));
            Py_ssize_t at = lower_bound(v, w - 1, in);
            memmove(v + at + 1, v + at, (size_t)(w - 1 - at) * sizeof(double));
            v[at] = in;
            continue;
        }
        /* a wide window: the value leaving (any of its equals) and where the value coming
         * in goes in the window that still holds it; only the values between them move */
        Py_ssize_t out = lower_bound_flat(v, w, AT(a, r));
        Py_ssize_t at = lower_bound_flat(v, w, in);
        if (at <= out) {
            memmove(v + at + 1, v + at, (size_t)(out - at) * sizeof(double));
            v[at] = in;
        } else {
            memmove(v + out, v + out + 1, (size_t)(at - 1 - out) * sizeof(double));
            v[at - 1] = in;
        }
    }
}

/* ------------------------------------------------------------------ median */

/* median(values) -> float | None: fast_median of a 1-D float64 array: (lo + hi) / 2 of
 * the middle order statistics (the middle value for odd n), a zero median as +0.0; None
 * (numpy decides, and warns) for anything else, when empty, on a NaN and when the
 * median is not finite. */
static PyObject *k_median(PyObject *self, PyObject *arg) {
    Arr a;
    if (!try_in(arg, 1, &a)) Py_RETURN_NONE;
    Py_ssize_t n = a.n;
    if (n == 0) {
        PyBuffer_Release(&a.view);
        Py_RETURN_NONE;
    }
    double stack[64];
    double *v = n <= 64 ? stack : PyMem_Malloc((size_t)n * sizeof(double));
    if (v == NULL) {
        PyBuffer_Release(&a.view);
        return PyErr_NoMemory();
    }
    int ok = load(v, a.base, n, a.stride);
    PyBuffer_Release(&a.view);
    double m = 0.0;
    if (ok) {
        double lo, hi;
        middle(v, n, &lo, &hi);
        m = n % 2 ? hi : (lo + hi) / 2;
        ok = isfinite(m);
    }
    if (v != stack) PyMem_Free(v);
    if (!ok) Py_RETURN_NONE;
    return PyFloat_FromDouble(m == 0.0 ? 0.0 : m);
}

/* quantiles(values, qs) -> tuple[float, ...] | None: fast_quantiles of a 1-D float64
 * array: numpy's linear quantile from the order statistics around each virtual index
 * ``(n - 1) * q`` (``a + (b - a) * t``, or ``b - (b - a) * (1 - t)`` from t = 0.5). None
 * (numpy decides) for anything else, when empty, for a q outside [0, 1], on a NaN, an
 * infinite neighbour and a zero result (its sign follows numpy's partition). */
static PyObject *k_quantiles(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyTuple_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "quantiles(values, qs: tuple)");
        return NULL;
    }
    Py_ssize_t count = PyTuple_GET_SIZE(args[1]);
    if (count > 16) Py_RETURN_NONE;
    Arr a;
    if (!try_in(args[0], 1, &a)) Py_RETURN_NONE;
    Py_ssize_t n = a.n;
    Py_ssize_t lo[16], hi[16], kth[32];
    double t[16], res[16];
    int ok = n > 0;
    for (Py_ssize_t i = 0; ok && i < count; i++) {
        double q = PyFloat_AsDouble(PyTuple_GET_ITEM(args[1], i));
        if (q == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            ok = 0;
            break;
        }
        double at = (double)(n - 1) * q; /* numpy's virtual index */
        if (!(0.0 <= at && at < (double)(n - 1))) {
            if (at == at && at >= (double)(n - 1)) { /* the last value */
                lo[i] = hi[i] = n - 1;
                t[i] = 0.0;
                continue;
            }
            ok = 0;
            break;
        }
        lo[i] = (Py_ssize_t)floor(at);
        hi[i] = lo[i] + 1;
        t[i] = at - (double)lo[i];
    }
    double stack[64];
    double *v = !ok ? NULL : n <= 64 ? stack : PyMem_Malloc((size_t)n * sizeof(double));
    if (ok && v == NULL) {
        PyBuffer_Release(&a.view);
        return PyErr_NoMemory();
    }
    if (ok) ok = load(v, a.base, n, a.stride);
    PyBuffer_Release(&a.view);
    if (ok) {
        /* the wanted positions, ascending: select each in what lies above the last */
        Py_ssize_t m = 0;
        for (Py_ssize_t i = 0; i < count; i++) {
            kth[m++] = lo[i];
            kth[m++] = hi[i];
        }
        qsort(kth, (size_t)m, sizeof(Py_ssize_t), cmp_index);
        Py_ssize_t done = 0;
        for (Py_ssize_t i = 0; i < m; i++) {
            select_kth(v + done, n - done, kth[i] - done);
            done = kth[i];
        }
        for (Py_ssize_t i = 0; ok && i < count; i++) {
            double x = v[lo[i]], y = v[hi[i]];
            if (!(isfinite(x) && isfinite(y))) {
                ok = 0;
                break;
            }
            double d = y - x;
            res[i] = t[i] >= 0.5 ? y - d * (1 - t[i]) : x + d * t[i];
            if (res[i] == 0.0) ok = 0;
        }
    }
    if (v != stack) PyMem_Free(v);
    if (!ok) Py_RETURN_NONE;
    PyObject *out = PyTuple_New(count);
    for (Py_ssize_t i = 0; out != NULL && i < count; i++) {
        PyObject *x = PyFloat_FromDouble(res[i]);
        if (x == NULL) {
            Py_CLEAR(out);
            break;
        }
        PyTuple_SET_ITEM(out, i, x);
    }
    return out;
}

/* row_medians(rows, out) -> bool: np.median(rows, axis=1) of a 2-D array into ``out``
 * (``part[h] + 0.0``, or ``(lo + 0.0 + hi) / 2``, numpy's expressions; the sign of a
 * zero never depends on which zero is picked); False (``out`` undefined) when a row
 * holds a NaN or has no value, or two finite middle values overflow (numpy warns). */
static PyObject *k_row_medians(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "row_medians(rows, out)");
        return NULL;
    }
    Arr a;
    Py_buffer out;
    if (get_in(args[0], 2, &a) < 0) return NULL;
    if (get_out(args[1], a.n, &out) < 0) {
        PyBuffer_Release(&a.view);
        return NULL;
    }
    Py_ssize_t w = a.cols;
    int ok = w >= 1;
    double *v = ok ? PyMem_Malloc((size_t)w * sizeof(double)) : NULL;
    if (ok && v == NULL) {
        PyBuffer_Release(&a.view);
        PyBuffer_Release(&out);
        return PyErr_NoMemory();
    }
    double *dst = (double *)out.buf;
    if (ok && a.n > 1 && a.stride == a.cstride)
        ok = sliding_medians(&a, v, dst);
    else
        for (Py_ssize_t r = 0; ok && r < a.n; r++) {
            if (!load(v, a.base + r * a.stride, w, a.cstride)) {
                ok = 0;
                break;
            }
            double lo, hi;
            middle(v, w, &lo, &hi);
            ok = put_median(dst + r, lo, hi, w);
        }
    PyMem_Free(v);
    PyBuffer_Release(&a.view);
    PyBuffer_Release(&out);
    return PyBool_FromLong(ok);
}

/* The prefix medians of n values at ``base`` (``stride`` bytes apart) from the first
 * ``first`` on, into dst[0], dst[step], ...: see prefix_medians; 0 where it declines. */
static int prefix_core(const char *base, Py_ssize_t stride, Py_ssize_t n, Py_ssize_t first,
                       double *v, double *dst, Py_ssize_t step) {
    /* one sorted array grown a value at a time (insertion) */
    for (Py_ssize_t size = 1; size <= n; size++) {
        double t = *(const double *)(base + (size - 1) * stride);
        if (t != t) return 0;
        Py_ssize_t j = size - 2;
        while (j >= 0 && v[j] > t) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = t;
        if (size < first) continue;
        double lo = v[(size - 1) / 2], hi = v[size / 2];
        double m = 0.5 * (lo + hi);
        if (m != m || isinf(m) || (m == 0.0 && lo == 0.0)) return 0;
        dst[(size - first) * step] = m;
    }
    return 1;
}

/* prefix_medians(y, first, out) -> bool: ``0.5 * (v[(k-1)//2] + v[k//2])`` of the sorted
 * prefixes y[:k], k = first..n, into ``out`` (n - first + 1 values), one sorted array
 * grown a value at a time. False (``out`` undefined) on a NaN, an infinite result (numpy
 * warns about the overflow) and a zero result made of zeros (its sign would follow how
 * a sort orders -0.0 and 0.0). */
static PyObject *k_prefix_medians(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "prefix_medians(y, first, out)");
        return NULL;
    }
    Py_ssize_t first = PyLong_AsSsize_t(args[1]);
    if (first == -1 && PyErr_Occurred()) return NULL;
    Arr a;
    if (get_in(args[0], 1, &a) < 0) return NULL;
    Py_ssize_t n = a.n;
    if (first < 1 || first > n) {
        PyBuffer_Release(&a.view);
        PyErr_SetString(PyExc_ValueError, "need 1 <= first <= len(y)");
        return NULL;
    }
    Py_buffer out;
    if (get_out(args[2], n - first + 1, &out) < 0) {
        PyBuffer_Release(&a.view);
        return NULL;
    }
    double *v = PyMem_Malloc((size_t)n * sizeof(double));
    if (v == NULL) {
        PyBuffer_Release(&a.view);
        PyBuffer_Release(&out);
        return PyErr_NoMemory();
    }
    int ok = prefix_core(a.base, a.stride, n, first, v, (double *)out.buf, 1);
    PyMem_Free(v);
    PyBuffer_Release(&a.view);
    PyBuffer_Release(&out);
    return PyBool_FromLong(ok);
}

/* moving_median(y, w, out) -> bool: stats.moving_median of a 1-D float64 array with an
 * odd window w > 1 into ``out`` (len(y) values): the medians of the full windows (as
 * row_medians), of the shrinking windows at the ends (as prefix_medians, the right end's
 * from the reversed tail), or fast_median of every window when the series is shorter
 * than one. False (``out`` undefined) wherever one of those declines, and for anything
 * but such an array. */
/* The running medians of k_moving_median (n >= 1 values, odd w > 1) into dst; v: scratch
 * for min(w, n) values. 0 where k_moving_median declines. */
static int running_medians(const Arr *a, Py_ssize_t w, double *v, double *dst) {
    Py_ssize_t n = a->n, h = w / 2;
    if (n < w) { /* fast_median of every window y[max(0, i - h) : i + h + 1] */
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_ssize_t lo = i - h > 0 ? i - h : 0, hi = i + h + 1 < n ? i + h + 1 : n;
            if (!load(v, a->base + lo * a->stride, hi - lo, a->stride)) return 0;
            double l, u;
            middle(v, hi - lo, &l, &u);
            double m = (hi - lo) % 2 ? u : (l + u) / 2;
            if (!isfinite(m)) return 0;
            dst[i] = m == 0.0 ? 0.0 : m;
        }
        return 1;
    }
    Arr rows = *a;
    rows.n = n - w + 1;
    rows.cols = w;
    rows.cstride = a->stride;
    return sliding_medians(&rows, v, dst + h) &&
           prefix_core(a->base, a->stride, 2 * h, h + 1, v, dst, 1) &&
           prefix_core(a->base + (n - 1) * a->stride, -a->stride, 2 * h, h + 1, v, dst + n - 1,
                       -1);
}

/* The arguments (y, w, out) of a windowed kernel: ``y`` a 1-D float64 array, ``w`` the
 * window, ``out`` a writable float64 array of len(y) values. 1 with ``a`` and ``out`` held
 * (the caller releases both); 0 when ``y`` is no such array (nothing held: the kernel
 * declines); -1 with an exception set (nothing held). */
static int window_args(PyObject *const *args, Py_ssize_t nargs, const char *usage, Py_ssize_t *w,
                       Arr *a, Py_buffer *out) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, usage);
        return -1;
    }
    *w = PyLong_AsSsize_t(args[1]);
    if (*w == -1 && PyErr_Occurred()) return -1;
    if (!try_in(args[0], 1, a)) return 0;
    if (get_out(args[2], a->n, out) < 0) {
        PyBuffer_Release(&a->view);
        return -1;
    }
    return 1;
}

static PyObject *k_moving_median(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    Py_ssize_t w;
    Arr a;
    Py_buffer out;
    int got = window_args(args, nargs, "moving_median(y, w, out)", &w, &a, &out);
    if (got < 0) return NULL;
    if (got == 0) Py_RETURN_FALSE;
    Py_ssize_t n = a.n;
    int ok = n >= 1 && w > 1 && w % 2 == 1;
    double *v = ok ? PyMem_Malloc((size_t)(w < n ? w : n) * sizeof(double)) : NULL;
    if (ok && v == NULL) {
        PyBuffer_Release(&a.view);
        PyBuffer_Release(&out);
        return PyErr_NoMemory();
    }
    if (ok) ok = running_medians(&a, w, v, (double *)out.buf);
    PyMem_Free(v);
    PyBuffer_Release(&a.view);
    PyBuffer_Release(&out);
    return PyBool_FromLong(ok);
}

/* trailing_median(y, w, out) -> bool: stats.trailing_median of a 1-D float64 array with a
 * window w >= 1 into ``out`` (len(y) values): the first value itself, the medians of the
 * prefixes shorter than a window (as prefix_medians), then of the w values before each
 * (as row_medians of the sliding windows). False (``out`` undefined) wherever one of
 * those declines, and for anything but such an array. */
static PyObject *k_trailing_median(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    Py_ssize_t w;
    Arr a;
    Py_buffer out;
    int got = window_args(args, nargs, "trailing_median(y, w, out)", &w, &a, &out);
    if (got < 0) return NULL;
    if (got == 0) Py_RETURN_FALSE;
    Py_ssize_t n = a.n;
    int ok = n >= 1 && w >= 1;
    Py_ssize_t k = w < n ? w : n; /* prefixes of 1 .. k - 1 values */
    double *v = ok ? PyMem_Malloc((size_t)(w > k ? w : k) * sizeof(double)) : NULL;
    if (ok && v == NULL) {
        PyBuffer_Release(&a.view);
        PyBuffer_Release(&out);
        return PyErr_NoMemory();
    }
    double *dst = (double *)out.buf;
    if (ok) {
        dst[0] = AT(&a, 0);
        if (k > 1) ok = prefix_core(a.base, a.stride, k - 1, 1, v, dst + 1, 1);
    }
    if (ok && n > w) {
        Arr rows = a;
        rows.n = n - w;
        rows.cols = w;
        rows.cstride = a.stride;
        ok = sliding_medians(&rows, v, dst + w);
    }
    PyMem_Free(v);
    PyBuffer_Release(&a.view);
    PyBuffer_Release(&out);
    return PyBool_FromLong(ok);
}

/* -------------------------------------------------------------------- mean */

/* numpy's pairwise summation of n values (numpy/_core/src/umath/loops_utils.h.src,
 * ``@TYPE@_pairwise_sum``): up to 8 values one after another from -0.0, up to 128 in 8
 * interleaved sums combined as a tree, more split in two halves (the first a multiple
 * of 8 long). */
static double pairwise_sum(const char *a, Py_ssize_t n, Py_ssize_t stride) {
#define X(i) (*(const double *)(a + (i) * stride))
    if (n < 8) {
        double res = -0.0;
        for (Py_ssize_t i = 0; i < n; i++) res += X(i);
        return res;
    }
    if (n <= 128) {
        double r[8];
        for (int j = 0; j < 8; j++) r[j] = X(j);
        Py_ssize_t i;
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += X(i + j);
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += X(i);
        return res;
    }
#undef X
    Py_ssize_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2, stride) + pairwise_sum(a + n2 * stride, n - n2, stride);
}

/* mean(values) -> float | None: ``values.mean()`` of a 1-D float64 array (numpy's
 * reduction adds the pairwise sum to the identity 0.0, then divides by n); None for
 * anything else, when empty, longer than one buffer of numpy's iterator (8192), or not
 * finite (numpy warns). */
static PyObject *k_mean(PyObject *self, PyObject *arg) {
    Arr a;
    if (!try_in(arg, 1, &a)) Py_RETURN_NONE;
    Py_ssize_t n = a.n;
    double m = NAN;
    if (n > 0 && n <= 8192) m = (0.0 + pairwise_sum(a.base, n, a.stride)) / (double)n;
    PyBuffer_Release(&a.view);
    if (!isfinite(m)) Py_RETURN_NONE;
    return PyFloat_FromDouble(m);
}

/* ptp(values) -> float | None: ``values.max() - values.min()`` of a 1-D float64 array (the
 * extremes are values of the array, so exact in any order); None (numpy decides) when
 * empty, on a NaN, when the extremes are equal (which zero numpy's order keeps decides the
 * sign of a zero range) and when their difference overflows (numpy warns). */
static PyObject *k_ptp(PyObject *self, PyObject *arg) {
    Arr a;
    if (!try_in(arg, 1, &a)) Py_RETURN_NONE;
    Py_ssize_t n = a.n;
    double lo = NAN, hi = NAN;
    if (n > 0) lo = hi = AT(&a, 0);
    for (Py_ssize_t i = 1; i < n && lo == lo; i++) {
        double x = AT(&a, i);
        if (x != x) lo = x;
        else if (x < lo) lo = x;
        else if (x > hi) hi = x;
    }
    PyBuffer_Release(&a.view);
    if (!(hi > lo)) Py_RETURN_NONE;
    double d = hi - lo;
    if (isinf(d) && isfinite(hi) && isfinite(lo)) Py_RETURN_NONE;
    return PyFloat_FromDouble(d);
}

static double *try_out(PyObject *obj, Py_ssize_t n, Py_buffer *v);

/* centred(x, y, dx, dy) -> (mean x, mean y) | None: the means of two 1-D float64 arrays
 * of the same n values (as k_mean: numpy's pairwise sums) and the deviations from them,
 * ``x - mean`` and ``y - mean``, into the C-contiguous float64 arrays dx and dy. None
 * (dx and dy undefined) for anything else, where k_mean declines, and for outputs that
 * are not n float64 values. */
static PyObject *k_centred(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "centred(x, y, dx, dy)");
        return NULL;
    }
    Arr a, b;
    if (!try_in(args[0], 1, &a)) Py_RETURN_NONE;
    if (!try_in(args[1], 1, &b)) {
        PyBuffer_Release(&a.view);
        Py_RETURN_NONE;
    }
    Py_ssize_t n = a.n;
    Py_buffer ox, oy;
    double *dx = NULL, *dy = NULL;
    int ok = n >= 1 && n <= 8192 && b.n == n;
    if (ok) dx = try_out(args[2], n, &ox);
    if (dx != NULL) dy = try_out(args[3], n, &oy);
    ok = ok && dy != NULL;
    double mx = 0.0, my = 0.0;
    if (ok) {
        mx = (0.0 + pairwise_sum(a.base, n, a.stride)) / (double)n;
        my = (0.0 + pairwise_sum(b.base, n, b.stride)) / (double)n;
        ok = isfinite(mx) && isfinite(my);
    }
    for (Py_ssize_t i = 0; ok && i < n; i++) {
        dx[i] = AT(&a, i) - mx;
        dy[i] = AT(&b, i) - my;
    }
    if (dy != NULL) PyBuffer_Release(&oy);
    if (dx != NULL) PyBuffer_Release(&ox);
    PyBuffer_Release(&a.view);
    PyBuffer_Release(&b.view);
    if (!ok) Py_RETURN_NONE;
    return Py_BuildValue("(dd)", mx, my);
}

/* row_means(rows, out) -> bool: ``rows.mean(axis=1)`` of a 2-D float64 array into ``out``
 * (every row as k_mean: numpy's pairwise sum added to 0.0, over the row length); False
 * (``out`` undefined) for an array that is not C-contiguous, rows of no value or longer
 * than one buffer of numpy's iterator (8192), and where a mean is not finite (numpy warns). */
static PyObject *k_row_means(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "row_means(rows, out)");
        return NULL;
    }
    Arr a;
    Py_buffer out;
    if (get_in(args[0], 2, &a) < 0) return NULL;
    if (get_out(args[1], a.n, &out) < 0) {
        PyBuffer_Release(&a.view);
        return NULL;
    }
    Py_ssize_t w = a.cols;
    /* C-contiguous only: numpy reduces the rows of other layouts in another order */
    int ok = w >= 1 && w <= 8192 && a.cstride == 8 && (a.n <= 1 || a.stride == 8 * w);
    double *dst = (double *)out.buf;
    for (Py_ssize_t r = 0; ok && r < a.n; r++) {
        double m = (0.0 + pairwise_sum(a.base + r * a.stride, w, a.cstride)) / (double)w;
        ok = isfinite(m);
        dst[r] = m;
    }
    PyBuffer_Release(&a.view);
    PyBuffer_Release(&out);
    return PyBool_FromLong(ok);
}

/* The winsorised deviations of r[0..n) (n >= 1, finite) into out: see k_winsorise; v is
 * scratch for n values. 1 when written, 0 for a zero scale s, -1 where numpy decides. */
static long winsorise_core(const double *r, Py_ssize_t n, double scale, double *v, double *out) {
    memcpy(v, r, (size_t)n * sizeof(double));
    double lo, hi;
    middle(v, n, &lo, &hi);
    double med = n % 2 ? hi : (lo + hi) / 2;
    if (!isfinite(med)) return -1;
    if (med == 0.0) med = 0.0; /* fast_median's +0.0 */
    for (Py_ssize_t i = 0; i < n; i++) v[i] = fabs(r[i] - med);
    middle(v, n, &lo, &hi);
    double dev = n % 2 ? hi : (lo + hi) / 2;
    if (!isfinite(dev)) return -1;
    double s = scale * (dev == 0.0 ? 0.0 : dev);
    if (s == 0.0) return 0;
    double bound_lo = -3.0 * s, bound_hi = 3.0 * s;
    for (Py_ssize_t i = 0; i < n; i++) {
        double c = r[i] - med;
        out[i] = c >= bound_lo ? (c <= bound_hi ? c : bound_hi) : bound_lo;
    }
    return 1;
}

/* A writable C-contiguous 1-D float64 array of n values, or NULL (no exception): the
 * caller declines. */
static double *try_out(PyObject *obj, Py_ssize_t n, Py_buffer *v) {
    if (PyObject_GetBuffer(obj, v, PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) {
        PyErr_Clear();
        return NULL;
    }
    if (v->ndim != 1 || !is_double(v) || v->shape[0] != n) {
        PyBuffer_Release(v);
        return NULL;
    }
    return (double *)v->buf;
}

/* winsorise(values, scale, out) -> int: stats.winsorised of a 1-D float64 array of finite
 * values: ``c = values - median(values)``, ``s = scale * median(|c|)`` and, unless s is 0,
 * ``clip(c, -3 s, 3 s)`` into ``out`` (a C-contiguous array of the same length). The
 * medians are fast_median's (the same order statistics, a zero median +0.0), the
 * subtraction, product and clip numpy's IEEE operations: the same bits. 1 when out is
 * written, 0 when s is 0 (out untouched), -1 (numpy decides) when empty, on a value that
 * is not finite or a median that is not (an overflow numpy warns about), for a scale that
 * is not positive and finite, and for arrays of other types or lengths.
 *
 * winsorise_line(x, y, level, slope, scale, out) -> int: the same of the residuals
 * ``y - (level + slope * (x - x[0]))`` around a line (numpy's order of operations). */
static PyObject *winsorise_any(PyObject *const *args, int line) {
    PyObject *xs = line ? args[0] : NULL, *ys = line ? args[1] : args[0];
    double level = 0.0, slope = 0.0;
    if (line) {
        level = PyFloat_AsDouble(args[2]);
        if (level == -1.0 && PyErr_Occurred()) return NULL;
        slope = PyFloat_AsDouble(args[3]);
        if (slope == -1.0 && PyErr_Occurred()) return NULL;
    }
    double scale = PyFloat_AsDouble(args[line ? 4 : 1]);
    if (scale == -1.0 && PyErr_Occurred()) return NULL;
    PyObject *outobj = args[line ? 5 : 2];
    if (!(scale > 0 && isfinite(scale))) return PyLong_FromLong(-1);
    Arr a, b;
    if (!try_in(ys, 1, &a)) return PyLong_FromLong(-1);
    if (line && !try_in(xs, 1, &b)) {
        PyBuffer_Release(&a.view);
        return PyLong_FromLong(-1);
    }
    Py_ssize_t n = a.n;
    long result = -1;
    Py_buffer ov;
    double *out = NULL, *r = NULL;
    if (n == 0 || (line && b.n != n)) goto done;
    out = try_out(outobj, n, &ov);
    if (out == NULL) goto done;
    r = PyMem_Malloc(2 * (size_t)n * sizeof(double));
    if (r == NULL) {
        PyBuffer_Release(&ov);
        out = NULL;
        PyErr_NoMemory();
        result = -2;
        goto done;
    }
    double x0 = line ? AT(&b, 0) : 0.0;
    int ok = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        double y = AT(&a, i);
        r[i] = line ? y - (level + slope * (AT(&b, i) - x0)) : y;
        if (!isfinite(r[i])) ok = 0;
    }
    if (ok) result = winsorise_core(r, n, scale, r + n, out);
    PyMem_Free(r);
    PyBuffer_Release(&ov);
done:
    PyBuffer_Release(&a.view);
    if (line) PyBuffer_Release(&b.view);
    if (result == -2) return NULL;
    return PyLong_FromLong(result);
}

static PyObject *k_winsorise(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "winsorise(values, scale, out)");
        return NULL;
    }
    return winsorise_any(args, 0);
}

static PyObject *k_winsorise_line(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "winsorise_line(x, y, level, slope, scale, out)");
        return NULL;
    }
    return winsorise_any(args, 1);
}

/* winsorise_running(y, w, scale, out) -> int: stats.winsorised(y - moving_median(y, w),
 * scale) of a 1-D float64 array and an odd window w > 1 in one call (the running medians
 * as k_moving_median, the subtraction numpy's, then k_winsorise): 1 when ``out`` (a
 * C-contiguous array of the same length) is written, 0 when the scale of the deviations
 * is 0 (out untouched), -1 wherever one of those declines (numpy decides). */
static PyObject *k_winsorise_running(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "winsorise_running(y, w, scale, out)");
        return NULL;
    }
    Py_ssize_t w = PyLong_AsSsize_t(args[1]);
    if (w == -1 && PyErr_Occurred()) return NULL;
    double scale = PyFloat_AsDouble(args[2]);
    if (scale == -1.0 && PyErr_Occurred()) return NULL;
    if (!(scale > 0 && isfinite(scale)) || w < 3 || w % 2 == 0) return PyLong_FromLong(-1);
    Arr a;
    if (!try_in(args[0], 1, &a)) return PyLong_FromLong(-1);
    Py_ssize_t n = a.n;
    Py_buffer ov;
    double *out = n >= 1 ? try_out(args[3], n, &ov) : NULL;
    long result = -1;
    double *buf = out != NULL ? PyMem_Malloc((size_t)(3 * n + w) * sizeof(double)) : NULL;
    if (out != NULL && buf == NULL) {
        PyErr_NoMemory();
        result = -2;
    } else if (buf != NULL && running_medians(&a, w, buf + 3 * n, buf)) {
        double *r = buf + n;
        int ok = 1;
        for (Py_ssize_t i = 0; i < n; i++) {
            r[i] = AT(&a, i) - buf[i];
            if (!isfinite(r[i])) ok = 0;
        }
        if (ok) result = winsorise_core(r, n, scale, buf + 2 * n, out);
    }
    PyMem_Free(buf);
    if (out != NULL) PyBuffer_Release(&ov);
    PyBuffer_Release(&a.view);
    if (result == -2) return NULL;
    return PyLong_FromLong(result);
}

/* ------------------------------------------------------------------ noise */

/* |y[i + 2k] - 2 y[i + k] + y[i]| for i in [0, n - 2k) into d (numpy's order: (a - 2b) + c);
 * 0 when one is not finite (numpy would warn, or the caller's NaN rules apply). */
static int abs_second_differences(const Arr *a, Py_ssize_t k, double *d) {
    Py_ssize_t m = a->n - 2 * k;
    for (Py_ssize_t i = 0; i < m; i++) {
        double x = AT(a, i + 2 * k) - 2.0 * AT(a, i + k) + AT(a, i);
        if (!isfinite(x)) return 0;
        d[i] = fabs(x);
    }
    return 1;
}

/* d2_median(y, k) -> float | None: fast_median(np.abs(y[2k:] - 2.0 * y[k:-k] + y[:-2k]))
 * of a 1-D float64 array (stats.noise_scale at lag k); None for anything else, fewer than
 * 2k + 1 values or a difference that is not finite. */
static PyObject *k_d2_median(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "d2_median(y, k)");
        return NULL;
    }
    Py_ssize_t k = PyLong_AsSsize_t(args[1]);
    if (k == -1 && PyErr_Occurred()) return NULL;
    Arr a;
    if (!try_in(args[0], 1, &a)) Py_RETURN_NONE;
    Py_ssize_t m = a.n - 2 * k;
    if (k < 1 || m < 1) {
        PyBuffer_Release(&a.view);
        Py_RETURN_NONE;
    }
    double stack[256];
    double *d = m <= 256 ? stack : PyMem_Malloc((size_t)m * sizeof(double));
    if (d == NULL) {
        PyBuffer_Release(&a.view);
        return PyErr_NoMemory();
    }
    int ok = abs_second_differences(&a, k, d);
    PyBuffer_Release(&a.view);
    double med = 0.0;
    if (ok) {
        double lo, hi;
        middle(d, m, &lo, &hi);
        med = m % 2 ? hi : (lo + hi) / 2;
    }
    if (d != stack) PyMem_Free(d);
    if (!ok) Py_RETURN_NONE;
    return PyFloat_FromDouble(med == 0.0 ? 0.0 : med);
}

/* local_noise(y, w, out) -> bool: stats.local_noise of a 1-D float64 array (n >= 3) with
 * its odd window w (3 <= w <= n) into ``out``: the lag-1 absolute second differences,
 * the first and last repeated, reflected by w // 2 at both ends, their running medians
 * (as row_medians) times MAD_TO_SIGMA / sqrt(6). False for anything else and where a
 * difference is not finite. */
static PyObject *k_local_noise(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "local_noise(y, w, out)");
        return NULL;
    }
    Py_ssize_t w = PyLong_AsSsize_t(args[1]);
    if (w == -1 && PyErr_Occurred()) return NULL;
    Arr a;
    if (!try_in(args[0], 1, &a)) Py_RETURN_FALSE;
    Py_ssize_t n = a.n, h = w / 2;
    Py_buffer out;
    if (get_out(args[2], n, &out) < 0) {
        PyBuffer_Release(&a.view);
        return NULL;
    }
    int ok = n >= 3 && w >= 3 && w % 2 == 1 && w <= n;
    double *buf = ok ? PyMem_Malloc((size_t)(2 * n + 2 * h + w) * sizeof(double)) : NULL;
    if (ok && buf == NULL) {
        PyBuffer_Release(&a.view);
        PyBuffer_Release(&out);
        return PyErr_NoMemory();
    }
    if (ok) {
        double *d = buf, *r = buf + n, *v = buf + 2 * n + 2 * h;
        ok = abs_second_differences(&a, 1, d + 1);
        if (ok) {
            d[0] = d[1];
            d[n - 1] = d[n - 2];
            /* np.pad(d, h, mode="reflect") */
            for (Py_ssize_t i = 0; i < h; i++) r[i] = d[h - i];
            memcpy(r + h, d, (size_t)n * sizeof(double));
            for (Py_ssize_t i = 0; i < h; i++) r[h + n + i] = d[n - 2 - i];
            Arr rows = {.base = (const char *)r, .n = n, .cols = w, .stride = 8, .cstride = 8};
            double *dst = (double *)out.buf;
            ok = sliding_medians(&rows, v, dst);
            for (Py_ssize_t i = 0; ok && i < n; i++)
                dst[i] = 1.482602218505602 * dst[i] / sqrt(6.0);
        }
    }
    PyMem_Free(buf);
    PyBuffer_Release(&a.view);
    PyBuffer_Release(&out);
    return PyBool_FromLong(ok);
}

/* ------------------------------------------------------------ noise model */

static double clip_as_numpy(double x, double lo, double hi);

/* The median of v[0..n) (n >= 1, no NaN; v is reordered) as k_median computes it, a zero
 * as +0.0; 0 where k_median declines (a median that is not finite). */
static int median_of(double *v, Py_ssize_t n, double *out) {
    double lo, hi;
    middle(v, n, &lo, &hi);
    double m = n % 2 ? hi : (lo + hi) / 2;
    *out = m == 0.0 ? 0.0 : m;
    return isfinite(m);
}

/* fast_quantile(v, 0.25) of v[0..n) (n >= 1, finite; v is reordered) as k_quantiles
 * computes it: 1 with the quantile in *out, 2 for a zero quantile (its sign is numpy's),
 * 0 where k_quantiles declines otherwise. */
static int lower_quartile(double *v, Py_ssize_t n, double *out) {
    double at = (double)(n - 1) * 0.25;
    Py_ssize_t lo, hi;
    double t;
    if (!(0.0 <= at && at < (double)(n - 1))) {
        lo = hi = n - 1;
        t = 0.0;
    } else {
        lo = (Py_ssize_t)floor(at);
        hi = lo + 1;
        t = at - (double)lo;
    }
    select_kth(v, n, lo);
    select_kth(v + lo, n - lo, hi - lo);
    double x = v[lo], y = v[hi];
    if (!(isfinite(x) && isfinite(y))) return 0;
    double d = y - x;
    *out = t >= 0.5 ? y - d * (1 - t) : x + d * t;
    return *out == 0.0 ? 2 : 1;
}

/* stats.noise_scale(y) at the lags it picks for n values, and at lag 1 alone, into
 * best[0] and best[1]; 0 where a second difference is not finite (d: n scratch values). */
static int noise_scales(const Arr *a, double *d, double *best) {
    Py_ssize_t n = a->n;
    static const Py_ssize_t lags[3] = {1, 2, 4};
    int count = n >= 100 ? 3 : n >= 40 ? 2 : 1;
    best[0] = best[1] = 0.0;
    for (int i = 0; i < count; i++) {
        Py_ssize_t k = lags[i];
        if (n < 2 * k + 3) continue;
        double med;
        if (!abs_second_differences(a, k, d) || !median_of(d, n - 2 * k, &med)) return 0;
        double v = 1.482602218505602 * med / sqrt(6.0);
        if (v > best[0]) best[0] = v;
        if (k == 1 && v > best[1]) best[1] = v;
    }
    return 1;
}

/* stats.local_noise(y, window) of n >= 3 values into dst (buf: 2 n + 2 h + w scratch
 * values for the window w it picks, h = w // 2); 0 where k_local_noise declines. */
static int local_noise_into(const Arr *a, Py_ssize_t window, double *buf, double *dst) {
    Py_ssize_t n = a->n, w = window < (n % 2 ? n : n - 1) ? window : (n % 2 ? n : n - 1);
    w = (w > 3 ? w : 3) | 1;
    Py_ssize_t h = w / 2;
    double *d = buf, *r = buf + n, *v = buf + 2 * n + 2 * h;
    if (!abs_second_differences(a, 1, d + 1)) return 0;
    d[0] = d[1];
    d[n - 1] = d[n - 2];
    for (Py_ssize_t i = 0; i < h; i++) r[i] = d[h - i];
    memcpy(r + h, d, (size_t)n * sizeof(double));
    for (Py_ssize_t i = 0; i < h; i++) r[h + n + i] = d[n - 2 - i];
    Arr rows = {.base = (const char *)r, .n = n, .cols = w, .stride = 8, .cstride = 8};
    if (!sliding_medians(&rows, v, dst)) return 0;
    for (Py_ssize_t i = 0; i < n; i++) dst[i] = 1.482602218505602 * dst[i] / sqrt(6.0);
    return 1;
}

/* stats.moving_median(y, 5) of n >= 5 values into dst (v: 5 scratch values); 0 where
 * k_moving_median declines. */
static int running_median5(const Arr *a, double *v, double *dst) {
    Py_ssize_t n = a->n;
    Arr rows = *a;
    rows.n = n - 4;
    rows.cols = 5;
    rows.cstride = a->stride;
    return sliding_medians(&rows, v, dst + 2) && prefix_core(a->base, a->stride, 4, 3, v, dst, 1) &&
           prefix_core(a->base + (n - 1) * a->stride, -a->stride, 4, 3, v, dst + n - 1, -1);
}

/* The noise model of n >= 1 finite block values (see k_noise_model) into local, smooth,
 * robust; scales: sig, floor, least, lag1; 0 where it declines (s: 4 n + 64 scratch). */
static int noise_model(const Arr *a, Py_ssize_t window, double resolution, double *s,
                       double *local, double *smooth, double *robust, double *scales) {
    Py_ssize_t n = a->n;
    double best[2];
    if (!noise_scales(a, s, best)) return 0;
    double hi = AT(a, 0), lo = AT(a, 0), level;
    for (Py_ssize_t i = 0; i < n; i++) {
        double x = AT(a, i);
        hi = x > hi ? x : hi;
        lo = x < lo ? x : lo;
        s[i] = fabs(x);
    }
    if (!median_of(s, n, &level)) return 0;
    double top = hi - lo; /* Python's max(span, level, 1e-12) */
    if (level > top) top = level;
    if (1e-12 > top) top = 1e-12;
    double floor_ = 1e-9 * top, least = resolution > floor_ ? resolution : floor_;
    if (!(least > 0.0 && isfinite(least))) return 0;
    if (n < 3) {
        for (Py_ssize_t i = 0; i < n; i++) local[i] = 0.0;
    } else if (!local_noise_into(a, window, s, local)) {
        return 0;
    }
    memcpy(s, local, (size_t)n * sizeof(double));
    double q, bar = least;
    int found = lower_quartile(s, n, &q);
    if (!found) return 0;
    if (found == 1 && 0.25 * q > bar) bar = 0.25 * q; /* a zero quartile leaves ``least`` */
    for (Py_ssize_t i = 0; i < n; i++) local[i] = local[i] >= bar ? local[i] : bar;
    if (n >= 5) {
        if (!running_median5(a, s, smooth)) return 0;
    } else {
        for (Py_ssize_t i = 0; i < n; i++) smooth[i] = AT(a, i);
    }
    memcpy(s, local, (size_t)n * sizeof(double));
    double med;
    if (!median_of(s, n, &med)) return 0;
    double cap = 2.0 * med;
    for (Py_ssize_t i = 0; i < n; i++) {
        double bound = 4.0 * (local[i] <= cap ? local[i] : cap);
        robust[i] = clip_as_numpy(AT(a, i), smooth[i] - bound, smooth[i] + bound);
    }
    for (Py_ssize_t i = 0; i < 2 && i < n; i++) {
        robust[i] = AT(a, i);
        robust[n - 1 - i] = AT(a, n - 1 - i);
    }
    scales[0] = best[0];
    scales[1] = floor_;
    scales[2] = least;
    scales[3] = best[1];
    return 1;
}

/* noise_model(y, window, resolution, local, smooth, robust) -> (sig, floor, least, lag1)
 * | None: detectors.base._noise_model of the block values y (a 1-D float64 array of n >= 1
 * finite values) into the three float64 arrays of n values. None (the arrays undefined)
 * for anything else and wherever one of the kernels it is made of declines. */
static PyObject *k_noise_model(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError,
                        "noise_model(y, window, resolution, local, smooth, robust)");
        return NULL;
    }
    Py_ssize_t window = PyLong_AsSsize_t(args[1]);
    if (window == -1 && PyErr_Occurred()) return NULL;
    double resolution = PyFloat_AsDouble(args[2]);
    if (resolution == -1.0 && PyErr_Occurred()) return NULL;
    Arr a;
    if (!try_in(args[0], 1, &a)) Py_RETURN_NONE;
    Py_ssize_t n = a.n;
    Py_buffer out[3];
    int got = 0;
    for (; got < 3; got++)
        if (get_out(args[3 + got], n, &out[got]) < 0) break;
    double *s = NULL;
    int ok = got == 3 && n >= 1;
    for (Py_ssize_t i = 0; ok && i < n; i++) ok = isfinite(AT(&a, i));
    if (ok) {
        s = PyMem_Malloc((size_t)(4 * n + 64) * sizeof(double));
        if (s == NULL) PyErr_NoMemory();
    }
    double scales[4];
    if (ok && s != NULL)
        ok = noise_model(&a, window, resolution, s, (double *)out[0].buf, (double *)out[1].buf,
                         (double *)out[2].buf, scales);
    PyMem_Free(s);
    for (int i = 0; i < got; i++) PyBuffer_Release(&out[i]);
    PyBuffer_Release(&a.view);
    if (got < 3 || (ok && s == NULL)) return NULL;
    if (!ok) Py_RETURN_NONE;
    return Py_BuildValue("(dddd)", scales[0], scales[1], scales[2], scales[3]);
}

/* --------------------------------------------------------------- equal runs */

/* equal_runs(y, k) -> (starts, stops) | None: stats.equal_runs of a 1-D float64 array:
 * every maximal run of exactly equal consecutive values (``==``: a NaN equals nothing,
 * -0.0 equals 0.0) of at least k values, as lists of ``[start, stop)``; None for
 * anything else. */
static PyObject *k_equal_runs(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "equal_runs(y, k)");
        return NULL;
    }
    Py_ssize_t k = PyLong_AsSsize_t(args[1]);
    if (k == -1 && PyErr_Occurred()) return NULL;
    Arr a;
    if (!try_in(args[0], 1, &a)) Py_RETURN_NONE;
    PyObject *starts = PyList_New(0), *stops = PyList_New(0);
    int ok = starts != NULL && stops != NULL;
    Py_ssize_t i = 0;
    while (ok && i + 1 < a.n) {
        if (!(AT(&a, i + 1) == AT(&a, i))) {
            i++;
            continue;
        }
        Py_ssize_t start = i;
        while (i + 1 < a.n && AT(&a, i + 1) == AT(&a, i)) i++;
        if (i + 1 - start >= k) {
            PyObject *b = PyLong_FromSsize_t(start), *e = PyLong_FromSsize_t(i + 1);
            ok = b != NULL && e != NULL && PyList_Append(starts, b) == 0 &&
                 PyList_Append(stops, e) == 0;
            Py_XDECREF(b);
            Py_XDECREF(e);
        }
    }
    PyBuffer_Release(&a.view);
    PyObject *out = ok ? PyTuple_Pack(2, starts, stops) : NULL;
    Py_XDECREF(starts);
    Py_XDECREF(stops);
    return out;
}

/* ------------------------------------------------------------- distinct */

/* Whether more than half of the finite values of ``values`` are distinct (-0.0 and 0.0 one
 * value, as np.unique's sort has them): stats.quantum's first test, which most curves
 * fail (then quantum is 0.0) without the sort. Counted in a hash set of their bits, up to
 * the first count that settles it. None for no 1-D float64 array. */
static PyObject *k_many_distinct(PyObject *self, PyObject *arg) {
    Arr a;
    if (!try_in(arg, 1, &a)) Py_RETURN_NONE;
    Py_ssize_t finite = 0;
    for (Py_ssize_t i = 0; i < a.n; i++) finite += isfinite(AT(&a, i)) != 0;
    int shift = 60;
    while (((Py_ssize_t)1 << (64 - shift)) < 2 * finite) shift--;
    size_t size = (size_t)1 << (64 - shift);
    uint64_t *keys = (uint64_t *)malloc(size * sizeof(uint64_t));
    char *used = (char *)calloc(size, 1);
    if (keys == NULL || used == NULL) {
        free(keys);
        free(used);
        PyBuffer_Release(&a.view);
        return PyErr_NoMemory();
    }
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < a.n && 2 * count <= finite; i++) {
        double v = AT(&a, i);
        if (!isfinite(v)) continue;
        if (v == 0.0) v = 0.0; /* -0.0 is 0.0 */
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        size_t h = (size_t)((bits * 0x9E3779B97F4A7C15ULL) >> shift);
        while (used[h] && keys[h] != bits) h = (h + 1) & (size - 1);
        if (!used[h]) {
            used[h] = 1;
            keys[h] = bits;
            count++;
        }
    }
    free(keys);
    free(used);
    PyBuffer_Release(&a.view);
    return PyBool_FromLong(2 * count > finite);
}

/* ---------------------------------------------------------- alternation */

/* detectors.oscillation._first_alternation: the flips of the successive differences of
 * ``values`` (both at least ``bar`` in size, their product negative: oscillation._flips,
 * comparison for comparison), then the first run of them that misses no two pairs in a
 * row, has ``min_flips`` steps or more and flips on ``share`` of its pairs (the count over
 * the pairs: one correctly rounded division of two exact integers, as Python's). Returns
 * (first, last) point, (-1, -1) when there is none; None for no 1-D float64 array, and
 * where a difference or a product of two is not finite (numpy would warn of an overflow
 * or an invalid value there). */
static int alternation_flips(const Arr *a, double bar, char *f) {
    Py_ssize_t m = a->n - 2;
    double d0 = a->n >= 2 ? AT(a, 1) - AT(a, 0) : 0.0;
    if (!isfinite(d0)) return 0;
    for (Py_ssize_t k = 0; k < m; k++) {
        double d1 = AT(a, k + 2) - AT(a, k + 1), prod = d1 * d0;
        if (!isfinite(d1) || !isfinite(prod)) return 0;
        f[k] = prod < 0 && fabs(d1) >= bar && fabs(d0) >= bar;
        d0 = d1;
    }
    return 1;
}

static void first_run(const char *f, Py_ssize_t m, Py_ssize_t min_flips, double share,
                      Py_ssize_t *first, Py_ssize_t *last) {
    Py_ssize_t i = 0;
    *first = *last = -1;
    while (i < m) {
        if (!f[i]) {
            i++;
            continue;
        }
        Py_ssize_t j = i, count = 0;
        while (j + 1 < m && (f[j + 1] || (j + 2 < m && f[j + 2]))) j++;
        if (!f[j]) j--;
        for (Py_ssize_t k = i; k <= j; k++) count += f[k];
        if (j - i + 2 >= min_flips && (double)count / (double)(j + 1 - i) >= share) {
            *first = i;
            *last = j + 2;
            return;
        }
        i = j + 1;
    }
}

static PyObject *k_first_alternation(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "first_alternation(values, bar, min_flips, share)");
        return NULL;
    }
    double bar = PyFloat_AsDouble(args[1]);
    if (bar == -1.0 && PyErr_Occurred()) return NULL;
    Py_ssize_t min_flips = PyLong_AsSsize_t(args[2]);
    if (min_flips == -1 && PyErr_Occurred()) return NULL;
    double share = PyFloat_AsDouble(args[3]);
    if (share == -1.0 && PyErr_Occurred()) return NULL;
    Arr a;
    if (!try_in(args[0], 1, &a)) Py_RETURN_NONE;
    Py_ssize_t m = a.n >= 3 ? a.n - 2 : 0; /* pairs of successive differences */
    char *f = (char *)malloc(m > 0 ? (size_t)m : 1);
    if (f == NULL) {
        PyBuffer_Release(&a.view);
        return PyErr_NoMemory();
    }
    int ok = alternation_flips(&a, bar, f);
    PyBuffer_Release(&a.view);
    Py_ssize_t first, last;
    if (ok) first_run(f, m, min_flips, share, &first, &last);
    free(f);
    if (!ok) Py_RETURN_NONE;
    return Py_BuildValue("(nn)", first, last);
}

/* ---------------------------------------------------------- segmentation */

/* Residual sum of squares of the weighted least-squares line with sums s[0..6) = (n, sx,
 * sy, sxx, sxy, syy): stats._sse_of, operation for operation. */
static double sse_of(const double *s) {
    double n = s[0] > 0 ? s[0] : INFINITY;
    double sx = s[1], sy = s[2];
    double cxx = s[3] - sx * sx / n;
    double cxy = s[4] - sx * sy / n;
    double cyy = s[5] - sy * sy / n;
    double fit = cxx > 1e-300 ? cxy * cxy / cxx : 0.0;
    double sse = cyy - fit;
    if (!(sse != sse) && !(sse >= 0.0)) sse = 0.0; /* np.maximum(., 0.0) keeps a NaN */
    return isfinite(sse) ? sse : INFINITY;
}

/* The best split of [i, j) from cumulative sums P (6 rows of ``cols`` values, row r at
 * P + r * rs, column c at + c * cs, in bytes): gain = sse(i, j) - sse(i, k) - sse(k, j),
 * the first largest finite one (stats.binary_segmentation's ``_best``); k = -1 and gain
 * 0.0 when the piece is too short or no gain is finite. */
static void best_of(const char *P, Py_ssize_t rs, Py_ssize_t cs, Py_ssize_t i, Py_ssize_t j,
                    Py_ssize_t min_size, double *gain_out, Py_ssize_t *k_out) {
#define P_(r, c) (*(const double *)(P + (r) * rs + (c) * cs))
    *gain_out = 0.0;
    *k_out = -1;
    if (j - i < 2 * min_size) return;
    double s[6];
    for (int r = 0; r < 6; r++) s[r] = P_(r, j) - P_(r, i);
    double whole = sse_of(s);
    double best = -INFINITY;
    Py_ssize_t at = -1;
    for (Py_ssize_t k = i + min_size; k <= j - min_size; k++) {
        for (int r = 0; r < 6; r++) s[r] = P_(r, k) - P_(r, i);
        double left = sse_of(s);
        for (int r = 0; r < 6; r++) s[r] = P_(r, j) - P_(r, k);
        double gain = whole - left - sse_of(s);
        if (isfinite(gain) && (at < 0 || gain > best)) {
            best = gain;
            at = k;
        }
    }
#undef P_
    if (at >= 0) {
        *gain_out = best;
        *k_out = at;
    }
}

#define MEMO 256

/* The state of one segmentation: cumulative sums and the search's settings. */
typedef struct {
    const double *P; /* 6 rows of n + 1 */
    Py_ssize_t n, min_size, max_segments;
    double pen;
    Py_ssize_t *cand_k, *cand_i, *cand_j; /* candidate splits (scratch) */
    double *cand_g;
    /* the best split of every piece met so far (pieces recur as breaks move) */
    Py_ssize_t memo_n, memo_i[MEMO], memo_j[MEMO], memo_k[MEMO];
    double memo_g[MEMO];
} Seg;

/* :c:func:`best_of` of piece [i, j) of a segmentation, memoised. */
static void best_piece(Seg *g, Py_ssize_t i, Py_ssize_t j, double *gain, Py_ssize_t *k) {
    for (Py_ssize_t m = 0; m < g->memo_n; m++)
        if (g->memo_i[m] == i && g->memo_j[m] == j) {
            *gain = g->memo_g[m];
            *k = g->memo_k[m];
            return;
        }
    best_of((const char *)g->P, (g->n + 1) * 8, 8, i, j, g->min_size, gain, k);
    if (g->memo_n < MEMO) {
        Py_ssize_t m = g->memo_n++;
        g->memo_i[m] = i;
        g->memo_j[m] = j;
        g->memo_g[m] = *gain;
        g->memo_k[m] = *k;
    }
}

static void add_candidate(Seg *g, Py_ssize_t *count, Py_ssize_t i, Py_ssize_t j) {
    Py_ssize_t c = (*count)++;
    g->cand_i[c] = i;
    g->cand_j[c] = j;
    best_piece(g, i, j, &g->cand_g[c], &g->cand_k[c]);
}

/* stats.binary_segmentation's ``grow``: splits breaks[0..count) further, greedily (the
 * largest gain first, ties to the smaller position), while a gain beats the penalty and
 * there is room; returns the new count, breaks sorted. */
static Py_ssize_t grow(Seg *g, Py_ssize_t *breaks, Py_ssize_t count) {
    qsort(breaks, (size_t)count, sizeof(Py_ssize_t), cmp_index);
    Py_ssize_t cands = 0;
    for (Py_ssize_t e = 0; e <= count; e++)
        add_candidate(g, &cands, e ? breaks[e - 1] : 0, e < count ? breaks[e] : g->n);
    Py_ssize_t out = count;
    while (cands > 0 && out + 1 < g->max_segments) {
        Py_ssize_t pick = 0;
        for (Py_ssize_t c = 1; c < cands; c++) {
            double gc = g->cand_g[c], gp = g->cand_g[pick];
            if (gc > gp || (gc == gp && g->cand_k[c] < g->cand_k[pick])) pick = c;
        }
        double gain = g->cand_g[pick];
        Py_ssize_t k = g->cand_k[pick], i = g->cand_i[pick], j = g->cand_j[pick];
        cands--; /* the others keep their order (only the ties' order could matter) */
        memmove(g->cand_g + pick, g->cand_g + pick + 1, (size_t)(cands - pick) * sizeof(double));
        memmove(g->cand_k + pick, g->cand_k + pick + 1,
                (size_t)(cands - pick) * sizeof(Py_ssize_t));
        memmove(g->cand_i + pick, g->cand_i + pick + 1,
                (size_t)(cands - pick) * sizeof(Py_ssize_t));
        memmove(g->cand_j + pick, g->cand_j + pick + 1,
                (size_t)(cands - pick) * sizeof(Py_ssize_t));
        if (k < 0 || !(gain > g->pen)) break;
        breaks[out++] = k;
        add_candidate(g, &cands, i, k);
        add_candidate(g, &cands, k, j);
    }
    qsort(breaks, (size_t)out, sizeof(Py_ssize_t), cmp_index);
    return out;
}

/* Cumulative sums of w, w x, w y, w x x, w x y, w y y (w = 1 without weights) with a
 * leading 0: stats._prefix, in numpy's order (np.cumsum adds one value at a time). */
static void prefix_sums(double *P, const Arr *x, const Arr *y, const Arr *w, Py_ssize_t n) {
    double *row[6];
    for (int r = 0; r < 6; r++) {
        row[r] = P + r * (n + 1);
        row[r][0] = 0.0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        double wi = w ? AT(w, i) : 1.0, xi = AT(x, i), yi = AT(y, i);
        double a[6] = {wi, wi * xi, wi * yi, wi * xi * xi, wi * xi * yi, wi * yi * yi};
        for (int r = 0; r < 6; r++) row[r][i + 1] = i ? row[r][i] + a[r] : a[r];
    }
}

/* segment(x, y, weights | None, pen, min_size, max_segments, fixed) -> list[int]: the
 * search of stats.binary_segmentation on its centred and scaled values (``fixed``: the
 * sorted forced breaks inside the series): grow from the forced breaks, then twice at
 * most move every free break to its best place between its neighbours and grow again. */
static PyObject *k_segment(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 7 || !PyTuple_Check(args[6])) {
        PyErr_SetString(PyExc_TypeError,
                        "segment(x, y, weights, pen, min_size, max_segments, fixed: tuple)");
        return NULL;
    }
    double pen = PyFloat_AsDouble(args[3]);
    Py_ssize_t min_size = PyLong_AsSsize_t(args[4]);
    Py_ssize_t max_segments = PyLong_AsSsize_t(args[5]);
    if (PyErr_Occurred()) return NULL;
    Py_ssize_t nfixed = PyTuple_GET_SIZE(args[6]);
    Arr x, y, w;
    int have_w = args[2] != Py_None;
    if (get_in(args[0], 1, &x) < 0) return NULL;
    if (get_in(args[1], 1, &y) < 0) {
        PyBuffer_Release(&x.view);
        return NULL;
    }
    if (have_w && get_in(args[2], 1, &w) < 0) {
        PyBuffer_Release(&x.view);
        PyBuffer_Release(&y.view);
        return NULL;
    }
    Py_ssize_t n = x.n;
    PyObject *result = NULL;
    double *P = NULL;
    Py_ssize_t *ints = NULL;
    double *gains = NULL;
    if (y.n != n || (have_w && w.n != n) || min_size < 1 || max_segments < 2) {
        PyErr_SetString(PyExc_ValueError, "need x, y (and weights) of one length, "
                                          "min_size >= 1, max_segments >= 2");
        goto done;
    }
    Py_ssize_t room = nfixed + max_segments + 2; /* breaks and candidates never exceed it */
    Py_ssize_t cap = 2 * room + 2;
    P = PyMem_Malloc((size_t)(6 * (n + 1)) * sizeof(double));
    ints = PyMem_Malloc((size_t)(room + nfixed + 3 * cap) * sizeof(Py_ssize_t));
    gains = PyMem_Malloc((size_t)cap * sizeof(double));
    if (P == NULL || ints == NULL || gains == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t *breaks = ints, *forced = ints + room, *cands = forced + nfixed;
    Seg g = {.P = P, .n = n, .min_size = min_size, .max_segments = max_segments, .pen = pen,
             .cand_k = cands, .cand_i = cands + cap, .cand_j = cands + 2 * cap,
             .cand_g = gains, .memo_n = 0};
    for (Py_ssize_t f = 0; f < nfixed; f++) {
        breaks[f] = PyLong_AsSsize_t(PyTuple_GET_ITEM(args[6], f));
        if (breaks[f] <= 0 || breaks[f] >= n || (f && breaks[f] <= breaks[f - 1])) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "fixed breaks must ascend inside the series");
            goto done;
        }
    }
    prefix_sums(P, &x, &y, have_w ? &w : NULL, n);
    memcpy(forced, breaks, (size_t)nfixed * sizeof(Py_ssize_t));
    Py_ssize_t count = grow(&g, breaks, nfixed);
    for (int round = 0; round < 2; round++) {
        int moved = 0;
        for (Py_ssize_t idx = 0; idx < count; idx++) {
            Py_ssize_t k = breaks[idx];
            if (bsearch(&k, forced, (size_t)nfixed, sizeof(Py_ssize_t), cmp_index)) continue;
            Py_ssize_t a = idx ? breaks[idx - 1] : 0;
            Py_ssize_t b = idx + 1 < count ? breaks[idx + 1] : n;
            double gain;
            Py_ssize_t best;
            best_piece(&g, a, b, &gain, &best);
            if (best >= 0 && best != k) {
                breaks[idx] = best;
                moved = 1;
            }
        }
        if (!moved) break;
        count = grow(&g, breaks, count);
    }
    qsort(breaks, (size_t)count, sizeof(Py_ssize_t), cmp_index);
    result = PyList_New(0);
    for (Py_ssize_t c = 0; result != NULL && c < count; c++) {
        if (c && breaks[c] == breaks[c - 1]) continue; /* sorted(set(breaks)) */
        PyObject *v = PyLong_FromSsize_t(breaks[c]);
        if (v == NULL || PyList_Append(result, v) < 0) Py_CLEAR(result);
        Py_XDECREF(v);
    }
done:
    PyMem_Free(P);
    PyMem_Free(ints);
    PyMem_Free(gains);
    PyBuffer_Release(&x.view);
    PyBuffer_Release(&y.view);
    if (have_w) PyBuffer_Release(&w.view);
    return result;
}

/* ---------------------------------------------------- rank autocorrelation */

/* rank_autocorrelation(order, out) -> bool: stats.autocorrelation of the ranks
 * ``np.argsort(order)`` (``order`` an int64 permutation of 0..n-1, such as an argsort),
 * at lags 0..len(out)-1, into ``out``. The ranks less their mean (n - 1) / 2 are
 * multiples of one half, so every product and every sum is exact in any order (in
 * integers here, twice the ranks): the same sums as numpy's, then one division. False
 * (``out`` untouched) when ``order`` is not such a permutation, has fewer than two
 * values or more than 100,000 (then sums could round), or ``out`` is longer than n. */
static PyObject *k_rank_autocorrelation(PyObject *self, PyObject *const *args,
                                        Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "rank_autocorrelation(order, out)");
        return NULL;
    }
    Py_buffer ob;
    if (PyObject_GetBuffer(args[0], &ob, PyBUF_RECORDS_RO) < 0) return NULL;
    int isint = ob.ndim == 1 && ob.itemsize == 8 && ob.format != NULL &&
                (strcmp(ob.format, "l") == 0 || strcmp(ob.format, "q") == 0 ||
                 strcmp(ob.format, "<l") == 0 || strcmp(ob.format, "<q") == 0);
    if (!isint) {
        PyBuffer_Release(&ob);
        PyErr_SetString(PyExc_TypeError, "expected a 1-D int64 array");
        return NULL;
    }
    Py_ssize_t n = ob.shape[0];
    Py_buffer out;
    if (PyObject_GetBuffer(args[1], &out, PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) <
        0) {
        PyBuffer_Release(&ob);
        return NULL;
    }
    Py_ssize_t lags = out.ndim == 1 && is_double(&out) ? out.shape[0] : -1;
    if (lags < 0) {
        PyBuffer_Release(&ob);
        PyBuffer_Release(&out);
        PyErr_SetString(PyExc_ValueError, "expected a writable float64 array");
        return NULL;
    }
    int ok = n >= 2 && n <= 100000 && lags >= 1 && lags <= n;
    long long *r = ok ? PyMem_Calloc((size_t)n, sizeof(long long)) : NULL;
    if (ok && r == NULL) {
        PyBuffer_Release(&ob);
        PyBuffer_Release(&out);
        return PyErr_NoMemory();
    }
    /* twice the rank less twice the mean; a value met twice or out of range: no permutation */
    for (Py_ssize_t i = 0; ok && i < n; i++) {
        long long k = *(const long long *)((const char *)ob.buf + i * ob.strides[0]);
        if (k < 0 || k >= n || r[k] != 0) {
            ok = 0;
            break;
        }
        r[k] = 2 * (long long)i - (n - 1) + 4 * (long long)n; /* shifted: never 0 */
    }
    if (ok) {
        for (Py_ssize_t i = 0; i < n; i++) r[i] -= 4 * (long long)n;
        double *dst = (double *)out.buf;
        long long s0 = 0;
        for (Py_ssize_t i = 0; i < n; i++) s0 += r[i] * r[i];
        double den = (double)s0 * 0.25;
        for (Py_ssize_t k = 0; k < lags; k++) {
            long long s = 0;
            for (Py_ssize_t i = 0; i + k < n; i++) s += r[i + k] * r[i];
            dst[k] = ((double)s * 0.25) / den;
        }
    }
    PyMem_Free(r);
    PyBuffer_Release(&ob);
    PyBuffer_Release(&out);
    return PyBool_FromLong(ok);
}

/* ------------------------------------------------------------- local lines */

/* A read-only 1-D int64 array (any strides); 0 with no exception when ``obj`` is none. */
static int try_int64(PyObject *obj, Py_buffer *v) {
    if (PyObject_GetBuffer(obj, v, PyBUF_RECORDS_RO) < 0) {
        PyErr_Clear();
        return 0;
    }
    if (v->ndim == 1 && v->itemsize == 8 && v->format != NULL &&
        (strcmp(v->format, "l") == 0 || strcmp(v->format, "q") == 0 ||
         strcmp(v->format, "<l") == 0 || strcmp(v->format, "<q") == 0))
        return 1;
    PyBuffer_Release(v);
    return 0;
}

/* row[0] = 0.0, then numpy's cumsum of values(i) (its first value as it is, every next
 * one added to the running sum). */
#define CUMSUM(row, expr)                                                                  \
    do {                                                                                   \
        (row)[0] = 0.0;                                                                    \
        for (Py_ssize_t i = 0; i < n; i++) (row)[i + 1] = i == 0 ? (expr) : (row)[i] + (expr); \
    } while (0)

/* The line through fit_to at positions [lo, hi) from the cumulative sums, at position i,
 * in stats.local_line_residuals' order of operations. */
static double local_fit(const double *P, Py_ssize_t n, Py_ssize_t lo, Py_ssize_t hi, double x) {
    const double *c = P, *sx_ = P + (n + 1), *sy_ = P + 2 * (n + 1), *sxx_ = P + 3 * (n + 1),
                 *sxy_ = P + 4 * (n + 1);
    double cnt = c[hi] - c[lo], sx = sx_[hi] - sx_[lo], sy = sy_[hi] - sy_[lo];
    double sxx = sxx_[hi] - sxx_[lo], sxy = sxy_[hi] - sxy_[lo];
    double cxx = sxx - sx * sx / cnt;
    double slope = cxx > 1e-15 ? (sxy - sx * sy / cnt) / cxx : 0.0;
    return sy / cnt + slope * (x - sx / cnt);
}

/* local_lines(xc, y, fit_to, phase, h, out) -> bool: stats.local_line_residuals after its
 * centring and scaling of x (``xc``): y minus the least-squares line through fit_to at
 * the 2 h + 1 positions around each one, cut where the int64 ``phase`` changes, into
 * ``out``. Cumulative sums in numpy's order, then the same elementwise arithmetic. False
 * (``out`` untouched) for no values, a negative h, or arrays of other types or lengths. */
static PyObject *k_local_lines(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "local_lines(xc, y, fit_to, phase, h, out)");
        return NULL;
    }
    Py_ssize_t h = PyLong_AsSsize_t(args[4]);
    if (h == -1 && PyErr_Occurred()) return NULL;
    Arr x, y, f;
    Py_buffer ph, out;
    int got = 0, ok = 0;
    if (try_in(args[0], 1, &x)) got = 1;
    if (got == 1 && try_in(args[1], 1, &y)) got = 2;
    if (got == 2 && try_in(args[2], 1, &f)) got = 3;
    if (got == 3 && try_int64(args[3], &ph)) got = 4;
    Py_ssize_t n = got == 4 ? x.n : 0;
    ok = got == 4 && n >= 1 && h >= 0 && y.n == n && f.n == n && ph.shape[0] == n;
    if (ok && get_out(args[5], n, &out) < 0) {
        ok = -1;
    }
    double *P = ok == 1 ? PyMem_Malloc((size_t)(5 * (n + 1)) * sizeof(double)) : NULL;
    if (ok == 1 && P == NULL) {
        PyErr_NoMemory();
        PyBuffer_Release(&out);
        ok = -1;
    }
    if (ok == 1) {
        P[0] = 0.0; /* the counts: np.arange(1, n + 1) */
        for (Py_ssize_t i = 0; i < n; i++) P[i + 1] = (double)(i + 1);
        CUMSUM(P + (n + 1), AT(&x, i));
        CUMSUM(P + 2 * (n + 1), AT(&f, i));
        CUMSUM(P + 3 * (n + 1), AT(&x, i) * AT(&x, i));
        CUMSUM(P + 4 * (n + 1), AT(&x, i) * AT(&f, i));
        double *dst = (double *)out.buf;
        const char *pb = (const char *)ph.buf;
#define PHASE(i) (*(const long long *)(pb + (i) * ph.strides[0]))
        Py_ssize_t first = 0;
        while (first < n) {
            Py_ssize_t last = first + 1;
            while (last < n && PHASE(last) == PHASE(last - 1)) last++;
            for (Py_ssize_t i = first; i < last; i++) {
                Py_ssize_t lo = i - h > first ? i - h : first;
                Py_ssize_t hi = i + h + 1 < last ? i + h + 1 : last;
                dst[i] = AT(&y, i) - local_fit(P, n, lo, hi, AT(&x, i));
            }
            first = last;
        }
#undef PHASE
        PyMem_Free(P);
        PyBuffer_Release(&out);
    }
    if (got >= 4) PyBuffer_Release(&ph);
    if (got >= 3) PyBuffer_Release(&f.view);
    if (got >= 2) PyBuffer_Release(&y.view);
    if (got >= 1) PyBuffer_Release(&x.view);
    if (ok < 0) return NULL;
    return PyBool_FromLong(ok);
}
#undef CUMSUM

/* ---------------------------------------------------------- forecast fits */

/* np.clip(x, lo, hi) of one value, as numpy's clip loop computes it: a NaN (value or
 * bound) gives NaN, and a value equal to a bound is kept (a zero keeps its sign). */
static double clip_as_numpy(double x, double lo, double hi) {
    double m = isnan(x) ? x : (x >= lo ? x : lo);
    return isnan(m) ? m : (m <= hi ? m : hi);
}

/* best_ab(sf, sff, sfy, n, sy, syy, a_lo, a_hi, b_lo, b_hi, a, b, err) -> bool:
 * explain.forecast._edge_optima after its sums (numpy's): for each row, the free
 * least-squares optimum of (a, b) and the four optima along the edges of the box, their
 * squared errors (the free one infinite outside the box) in the same order of operations,
 * and the first smallest error (the first NaN, as np.argmin) into ``a``, ``b`` and
 * ``err``. False (outputs untouched) for input arrays of other types or lengths; a
 * ValueError for output arrays that are not float64 of the rows' length. */
static PyObject *k_best_ab(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 13) {
        PyErr_SetString(PyExc_TypeError,
                        "best_ab(sf, sff, sfy, n, sy, syy, a_lo, a_hi, b_lo, b_hi, a, b, err)");
        return NULL;
    }
    double p[7];
    for (int k = 0; k < 7; k++) {
        p[k] = PyFloat_AsDouble(args[3 + k]);
        if (p[k] == -1.0 && PyErr_Occurred()) return NULL;
    }
    const double n = p[0], sy = p[1], syy = p[2], a_lo = p[3], a_hi = p[4], b_lo = p[5],
                 b_hi = p[6];
    Arr sf, sff, sfy;
    Py_buffer oa, ob, oe;
    int got = 0, ok = 0;
    if (try_in(args[0], 1, &sf)) got = 1;
    if (got == 1 && try_in(args[1], 1, &sff)) got = 2;
    if (got == 2 && try_in(args[2], 1, &sfy)) got = 3;
    Py_ssize_t rows = got == 3 ? sf.n : 0;
    ok = got == 3 && sff.n == rows && sfy.n == rows;
    if (ok && get_out(args[10], rows, &oa) < 0) ok = -1;
    if (ok == 1 && get_out(args[11], rows, &ob) < 0) {
        PyBuffer_Release(&oa);
        ok = -1;
    }
    if (ok == 1 && get_out(args[12], rows, &oe) < 0) {
        PyBuffer_Release(&ob);
        PyBuffer_Release(&oa);
        ok = -1;
    }
    if (ok == 1) {
        double *da = (double *)oa.buf, *db = (double *)ob.buf, *de = (double *)oe.buf;
        for (Py_ssize_t i = 0; i < rows; i++) {
            double f = AT(&sf, i), ff = AT(&sff, i), fy = AT(&sfy, i);
            double A[5], B[5], E[5];
            double det = n * ff - f * f;
            B[0] = det > 0 ? (n * fy - f * sy) / det : 0.0;
            A[0] = (sy - B[0] * f) / n;
            double safe = ff > 0 ? ff : 1.0;
            A[1] = a_lo;
            A[2] = a_hi;
            B[1] = clip_as_numpy((fy - a_lo * f) / safe, b_lo, b_hi);
            B[2] = clip_as_numpy((fy - a_hi * f) / safe, b_lo, b_hi);
            B[3] = b_lo;
            B[4] = b_hi;
            A[3] = clip_as_numpy((sy - b_lo * f) / n, a_lo, a_hi);
            A[4] = clip_as_numpy((sy - b_hi * f) / n, a_lo, a_hi);
            for (int k = 0; k < 5; k++) {
                double ta = 2 * A[k];
                E[k] = syy - ta * sy - 2 * B[k] * fy + n * A[k] * A[k] + ta * B[k] * f +
                       B[k] * B[k] * ff;
            }
            if (!((A[0] >= a_lo) && (A[0] <= a_hi) && (B[0] >= b_lo) && (B[0] <= b_hi)))
                E[0] = INFINITY;
            int pick = 0;
            if (!isnan(E[0])) {
                for (int k = 1; k < 5; k++) {
                    if (isnan(E[k])) {
                        pick = k;
                        break;
                    }
                    if (E[k] < E[pick]) pick = k;
                }
            }
            da[i] = A[pick];
            db[i] = B[pick];
            de[i] = E[pick];
        }
        PyBuffer_Release(&oe);
        PyBuffer_Release(&ob);
        PyBuffer_Release(&oa);
    }
    if (got >= 3) PyBuffer_Release(&sfy.view);
    if (got >= 2) PyBuffer_Release(&sff.view);
    if (got >= 1) PyBuffer_Release(&sf.view);
    if (ok < 0) return NULL;
    return PyBool_FromLong(ok);
}

/* ------------------------------------------------------------- fitted path */

/* One piece (b0, b1, level0, change) of tiled_path's list: 0 unless a 4-tuple of two ints
 * and two finite floats (no exception). */
static int piece_of(PyObject *p, Py_ssize_t *b0, Py_ssize_t *b1, double *level, double *change) {
    if (!PyTuple_Check(p) || PyTuple_GET_SIZE(p) != 4) return 0;
    *b0 = PyLong_AsSsize_t(PyTuple_GET_ITEM(p, 0));
    *b1 = PyLong_AsSsize_t(PyTuple_GET_ITEM(p, 1));
    *level = PyFloat_AsDouble(PyTuple_GET_ITEM(p, 2));
    *change = PyFloat_AsDouble(PyTuple_GET_ITEM(p, 3));
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return isfinite(*level) && isfinite(*change);
}

/* tiled_path(x, pieces, out) -> bool: detectors.base._tiled_path of the block centres x
 * (a 1-D float64 array of m finite values) and the pieces (b0, b1, level0, change) that
 * tile [0, m) in order, into ``out`` (m float64 values): ``level0 + (x - x[b0]) * rate``
 * with ``rate = change / (x[b1 - 1] - x[b0])`` (numpy's order of operations), ``level0``
 * where the piece does not move along x. False (``out`` undefined) for anything else. */
static PyObject *k_tiled_path(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "tiled_path(x, pieces, out)");
        return NULL;
    }
    Arr a;
    if (!try_in(args[0], 1, &a)) Py_RETURN_FALSE;
    Py_buffer out;
    if (get_out(args[2], a.n, &out) < 0) {
        PyBuffer_Release(&a.view);
        return NULL;
    }
    PyObject *seq = PySequence_Fast(args[1], "pieces must be a sequence");
    int ok = seq != NULL;
    if (!ok) PyErr_Clear();
    Py_ssize_t m = a.n, next = 0, count = ok ? PySequence_Fast_GET_SIZE(seq) : 0;
    double *dst = (double *)out.buf;
    for (Py_ssize_t i = 0; ok && i < m; i++) ok = isfinite(AT(&a, i));
    for (Py_ssize_t k = 0; ok && k < count; k++) {
        Py_ssize_t b0, b1;
        double level, change;
        ok = piece_of(PySequence_Fast_GET_ITEM(seq, k), &b0, &b1, &level, &change) &&
             b0 == next && b0 < b1 && b1 <= m;
        if (!ok) break;
        double x0 = AT(&a, b0), span = AT(&a, b1 - 1) - x0;
        if (span > 0) {
            double rate = change / span;
            for (Py_ssize_t j = b0; j < b1; j++) dst[j] = level + (AT(&a, j) - x0) * rate;
        } else {
            for (Py_ssize_t j = b0; j < b1; j++) dst[j] = level;
        }
        next = b1;
    }
    ok = ok && count >= 1 && next == m;
    Py_XDECREF(seq);
    PyBuffer_Release(&out);
    PyBuffer_Release(&a.view);
    return PyBool_FromLong(ok);
}

/* ------------------------------------------------------------- block spread */

static int try_int64(PyObject *obj, Py_buffer *v);

/* np.interp(x, xp, fp) at one x within [xp[0], xp[m - 1]] (xp strictly increasing, m >= 2),
 * as numpy's arr_interp computes it: fp[j] at a knot, else the slope of the interval
 * times the distance from its left knot plus fp[j], from the right knot on a NaN. *j:
 * the interval of the x before (numpy's guess too), then of this one: the largest j with
 * xp[j] <= x (unique, xp increasing strictly). */
static double interp_at(double x, const Arr *xp, const Arr *fp, Py_ssize_t *at) {
    Py_ssize_t j = *at;
    while (j + 1 < xp->n && AT(xp, j + 1) <= x) j++;
    while (j > 0 && AT(xp, j) > x) j--;
    *at = j;
    if (j == xp->n - 1 || AT(xp, j) == x) return AT(fp, j);
    double slope = (AT(fp, j + 1) - AT(fp, j)) / (AT(xp, j + 1) - AT(xp, j));
    double v = slope * (x - AT(xp, j)) + AT(fp, j);
    if (isnan(v)) {
        v = slope * (x - AT(xp, j + 1)) + AT(fp, j + 1);
        if (isnan(v) && AT(fp, j) == AT(fp, j + 1)) v = AT(fp, j);
    }
    return v;
}

/* The slope of the line through blocks a and b as stats.block_spread computes it. */
static double end_slope(const Arr *bx, const Arr *by, Py_ssize_t a, Py_ssize_t b) {
    double dx = AT(bx, b) - AT(bx, a);
    return dx > 0 ? (AT(by, b) - AT(by, a)) / dx : 0.0;
}

/* stats.block_spread into out (m blocks of n points, 2 <= m < n, finite, bx increasing,
 * the first ``full`` blocks ``size`` points long; r: n scratch values); 0 where it declines. */
static int spread_core(const Arr *x, const Arr *y, const Arr *bx, const Arr *by,
                       Py_ssize_t size, Py_ssize_t full, double *r, double *out) {
    Py_ssize_t n = x->n, m = bx->n;
    double first = AT(bx, 0), last = AT(bx, m - 1);
    double s0 = end_slope(bx, by, 0, 1), s1 = end_slope(bx, by, m - 2, m - 1);
    Py_ssize_t at = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        double xv = AT(x, i), line;
        if (xv < first) /* beyond the first and last block centres: their lines, extended */
            line = AT(by, 0) + s0 * (xv - first);
        else if (xv > last)
            line = AT(by, m - 2) + s1 * (xv - AT(bx, m - 2));
        else
            line = interp_at(xv, bx, by, &at);
        r[i] = fabs(AT(y, i) - line);
    }
    for (Py_ssize_t b = 0; b < full; b++) { /* as k_row_means */
        out[b] = (0.0 + pairwise_sum((const char *)(r + b * size), size, 8)) / (double)size;
        if (!isfinite(out[b])) return 0;
    }
    if (full < m) { /* as k_mean */
        Py_ssize_t rest = n - full * size;
        double mean = (0.0 + pairwise_sum((const char *)(r + full * size), rest, 8)) / (double)rest;
        if (!isfinite(mean)) return 0;
        for (Py_ssize_t b = full; b < m; b++) out[b] = mean;
    }
    double scale = sqrt(3.141592653589793 / 2.0);
    for (Py_ssize_t b = 0; b < m; b++) out[b] = out[b] * scale;
    return 1;
}

/* Whether the blocks suit spread_core (see k_block_spread); their size and full count. */
static int spread_shape(const Arr *x, const Arr *y, const Arr *bx, const Arr *by,
                        const Py_buffer *counts, Py_ssize_t *size, Py_ssize_t *full) {
    Py_ssize_t n = x->n, m = bx->n;
    if (y->n != n || by->n != m || counts->shape[0] != m || m < 2 || m >= n) return 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (!isfinite(AT(x, i)) || !isfinite(AT(y, i))) return 0;
    for (Py_ssize_t b = 0; b < m; b++)
        if (!isfinite(AT(bx, b)) || !isfinite(AT(by, b)) || (b && !(AT(bx, b) > AT(bx, b - 1))))
            return 0;
    const char *c = (const char *)counts->buf;
    Py_ssize_t cs = counts->strides[0], k = *(const int64_t *)c, equal = 0;
    for (Py_ssize_t b = 0; b < m; b++) equal += *(const int64_t *)(c + b * cs) == k;
    *size = (Py_ssize_t)k;
    *full = equal;
    /* numpy's reshape of the first full * size points, and a tail of points when some
     * blocks are not full; one buffer of numpy's iterator per mean (as k_mean) */
    return k >= 1 && k <= 8192 && equal * k <= n && (equal == m || equal * k < n) &&
           n - equal * k <= 8192;
}

/* block_spread(x, y, bx, by, counts, out) -> bool: stats.block_spread of the n points
 * (x, y) and their blocks (bins.x, bins.y, bins.count) into ``out`` (m values): the
 * absolute distances to np.interp's line through the blocks (the end blocks' lines
 * extended beyond them), their means per full block (numpy's pairwise sums, as
 * row_means) and over the rest, times sqrt(pi / 2). False (``out`` undefined) unless
 * 2 <= m < n, every value is finite, the block centres increase strictly, and the means
 * are finite; a ValueError for an ``out`` that is not m float64 values. Only where the
 * kernels' mean adds as numpy's does (stats._SAME_SUMS), and numpy's interp rounds as
 * this one (no fused multiply-add: stats._SAME_SPREAD). */
static PyObject *k_block_spread(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "block_spread(x, y, bx, by, counts, out)");
        return NULL;
    }
    Arr in[4];
    int got = 0;
    while (got < 4 && try_in(args[got], 1, &in[got])) got++;
    Py_buffer counts, out;
    int have_counts = got == 4 && try_int64(args[4], &counts);
    int have_out = have_counts && get_out(args[5], in[2].n, &out) == 0;
    Py_ssize_t size = 0, full = 0;
    int ok = have_out && spread_shape(&in[0], &in[1], &in[2], &in[3], &counts, &size, &full);
    double *r = NULL;
    if (ok) {
        r = PyMem_Malloc((size_t)in[0].n * sizeof(double));
        if (r == NULL) {
            PyErr_NoMemory();
            ok = 0;
        } else {
            ok = spread_core(&in[0], &in[1], &in[2], &in[3], size, full, r, (double *)out.buf);
        }
    }
    PyMem_Free(r);
    if (have_out) PyBuffer_Release(&out);
    if (have_counts) PyBuffer_Release(&counts);
    for (int i = 0; i < got; i++) PyBuffer_Release(&in[i].view);
    if (PyErr_Occurred()) return NULL;
    return PyBool_FromLong(ok);
}

/* ------------------------------------------------------------------ patience rules */

/* Whether ``v`` improves on ``best`` (baselines._improves: the same expressions). */
static int improves(double v, double best, int minimise, int relative, double delta) {
    if (!relative) return minimise ? v + delta < best : v - delta > best;
    if (minimise) return best >= 0 ? v < best * (1 - delta) : v < best * (1 + delta);
    return best >= 0 ? v > best * (1 + delta) : v > best * (1 - delta);
}

/* records(values, minimise, relative, delta) -> list[int] | None: baselines._records,
 * the indices at which a patience rule sees a new best. On all-finite values only the
 * candidates of baselines._record_candidates are tested (every index when ``delta`` is
 * negative, or relative and >= 1, else the strict running extrema), otherwise every
 * finite value; the comparisons are baselines._improves'. None for another array. */
static PyObject *k_records(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "records(values, minimise, relative, delta)");
        return NULL;
    }
    int minimise = PyObject_IsTrue(args[1]), relative = PyObject_IsTrue(args[2]);
    double delta = PyFloat_AsDouble(args[3]);
    if (minimise < 0 || relative < 0 || (delta == -1.0 && PyErr_Occurred())) return NULL;
    Arr a;
    if (!try_in(args[0], 1, &a)) Py_RETURN_NONE;
    int finite = 1;
    for (Py_ssize_t i = 0; i < a.n && finite; i++) finite = isfinite(AT(&a, i));
    int every = !finite || delta < 0 || (relative && delta >= 1) || a.n < 2;
    PyObject *out = PyList_New(0);
    double best = minimise ? INFINITY : -INFINITY, extreme = 0.0;
    for (Py_ssize_t i = 0; out != NULL && i < a.n; i++) {
        double v = AT(&a, i);
        int candidate = every || i == 0 || (minimise ? v < extreme : v > extreme);
        if (i == 0 || (minimise ? v < extreme : v > extreme)) extreme = v;
        if (!candidate || !isfinite(v) || !improves(v, best, minimise, relative, delta)) continue;
        best = v;
        PyObject *index = PyLong_FromSsize_t(i);
        if (index == NULL || PyList_Append(out, index) < 0) Py_CLEAR(out);
        Py_XDECREF(index);
    }
    PyBuffer_Release(&a.view);
    return out;
}

/* ------------------------------------------------------------------ JSON */

/* The growing ASCII text of dumps_indented. */
typedef struct {
    char *buf;
    Py_ssize_t len, cap;
} Text;

static int text_put(Text *t, const char *s, Py_ssize_t n) {
    if (t->len + n > t->cap) {
        Py_ssize_t cap = t->cap ? t->cap : 1 << 16;
        while (cap < t->len + n) cap *= 2;
        char *grown = (char *)PyMem_Realloc(t->buf, (size_t)cap);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        t->buf = grown;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, (size_t)n);
    t->len += n;
    return 0;
}

/* Appends the ASCII str ``s`` and releases it; 1 (no exception) when it is not ASCII. */
static int text_put_str(Text *t, PyObject *s) {
    if (s == NULL) return -1;
    int rc = 1;
    if (PyUnicode_Check(s) && PyUnicode_IS_ASCII(s))
        rc = text_put(t, (const char *)PyUnicode_DATA(s), PyUnicode_GET_LENGTH(s));
    Py_DECREF(s);
    return rc;
}

/* A line break and ``depth`` steps of indentation. */
static int text_newline(Text *t, const char *step, Py_ssize_t step_len, int depth) {
    if (text_put(t, "\n", 1) < 0) return -1;
    for (int k = 0; k < depth; k++)
        if (text_put(t, step, step_len) < 0) return -1;
    return 0;
}

typedef struct {
    const char *step;
    Py_ssize_t step_len;
    PyObject *encode; /* json.encoder.encode_basestring_ascii */
} JsonStyle;

static int put_json(Text *t, PyObject *o, const JsonStyle *st, int depth);

/* A list or tuple (exact types), then a dict (exact type) with str keys; 1 to decline. */
static int put_json_container(Text *t, PyObject *o, const JsonStyle *st, int depth) {
    int is_dict = PyDict_CheckExact(o);
    Py_ssize_t n = is_dict ? PyDict_GET_SIZE(o) : PySequence_Fast_GET_SIZE(o);
    if (n == 0) return text_put(t, is_dict ? "{}" : "[]", 2);
    if (text_put(t, is_dict ? "{" : "[", 1) < 0) return -1;
    Py_ssize_t pos = 0, i = 0;
    PyObject *key, *value;
    while (is_dict ? PyDict_Next(o, &pos, &key, &value) : i < n) {
        if ((is_dict ? PyDict_GET_SIZE(o) : PySequence_Fast_GET_SIZE(o)) != n) return 1;
        if (!is_dict) value = PySequence_Fast_GET_ITEM(o, i);
        /* held while ``encode`` runs: it is the caller's, and could change the container */
        Py_INCREF(value);
        int rc = 0;
        if (i > 0) rc = text_put(t, ",", 1);
        if (rc == 0) rc = text_newline(t, st->step, st->step_len, depth + 1);
        if (rc == 0 && is_dict) {
            Py_INCREF(key);
            rc = PyUnicode_Check(key) ? text_put_str(t, PyObject_CallOneArg(st->encode, key)) : 1;
            Py_DECREF(key);
            if (rc == 0) rc = text_put(t, ": ", 2);
        }
        if (rc == 0) rc = put_json(t, value, st, depth + 1);
        Py_DECREF(value);
        if (rc != 0) return rc;
        i++;
    }
    if ((is_dict ? PyDict_GET_SIZE(o) : PySequence_Fast_GET_SIZE(o)) != n) return 1;
    if (text_newline(t, st->step, st->step_len, depth) < 0) return -1;
    return text_put(t, is_dict ? "}" : "]", 1);
}

/* 0 done, -1 an exception, 1 declined (a value report.dumps_indented leaves to Python). */
static int put_json(Text *t, PyObject *o, const JsonStyle *st, int depth) {
    if (PyUnicode_Check(o)) return text_put_str(t, PyObject_CallOneArg(st->encode, o));
    if (o == Py_None) return text_put(t, "null", 4);
    if (o == Py_True) return text_put(t, "true", 4);
    if (o == Py_False) return text_put(t, "false", 5);
    if (PyLong_Check(o)) return text_put_str(t, PyLong_Type.tp_repr(o));
    if (PyFloat_Check(o)) {
        if (!isfinite(PyFloat_AS_DOUBLE(o))) return 1;
        return text_put_str(t, PyFloat_Type.tp_repr(o));
    }
    if (!(PyList_CheckExact(o) || PyTuple_CheckExact(o) || PyDict_CheckExact(o))) return 1;
    if (depth > 500) return 1;  /* Python's recursion limit decides */
    return put_json_container(t, o, st, depth);
}

/* dumps_indented(doc, step, encode) -> str | None: report.dumps_indented's text
 * (json.dumps(doc, indent=...) with ``step`` as the indentation), the strings and keys
 * through ``encode`` (json.encoder.encode_basestring_ascii), numbers through int.__repr__
 * and float.__repr__. None for what the Python writer leaves to json.dumps (a non-finite
 * float, a key other than a str, another type, containers other than exact lists,
 * tuples and dicts) and for a very deep document. */
static PyObject *k_dumps_indented(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !PyUnicode_Check(args[1]) || !PyCallable_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "dumps_indented(doc, step: str, encode)");
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(args[1])) Py_RETURN_NONE;
    JsonStyle st = {(const char *)PyUnicode_DATA(args[1]), PyUnicode_GET_LENGTH(args[1]),
                    args[2]};
    Text t = {NULL, 0, 0};
    int rc = put_json(&t, args[0], &st, 0);
    PyObject *out = NULL;
    if (rc == 0) {
        out = PyUnicode_New(t.len, 127);
        if (out != NULL) memcpy(PyUnicode_DATA(out), t.buf, (size_t)t.len);
    } else if (rc == 1) {
        out = Py_NewRef(Py_None);
    }
    PyMem_Free(t.buf);
    return out;
}

/* ------------------------------------------------------------------ module */

static PyMethodDef methods[] = {
    {"median", (PyCFunction)k_median, METH_O, NULL},
    {"mean", (PyCFunction)k_mean, METH_O, NULL},
    {"ptp", (PyCFunction)k_ptp, METH_O, NULL},
    {"many_distinct", (PyCFunction)k_many_distinct, METH_O, NULL},
    {"centred", (PyCFunction)(void (*)(void))k_centred, METH_FASTCALL, NULL},
    {"row_means", (PyCFunction)(void (*)(void))k_row_means, METH_FASTCALL, NULL},
    {"winsorise", (PyCFunction)(void (*)(void))k_winsorise, METH_FASTCALL, NULL},
    {"winsorise_line", (PyCFunction)(void (*)(void))k_winsorise_line, METH_FASTCALL, NULL},
    {"winsorise_running", (PyCFunction)(void (*)(void))k_winsorise_running, METH_FASTCALL,
     NULL},
    {"quantiles", (PyCFunction)(void (*)(void))k_quantiles, METH_FASTCALL, NULL},
    {"rank_autocorrelation", (PyCFunction)(void (*)(void))k_rank_autocorrelation, METH_FASTCALL,
     NULL},
    {"row_medians", (PyCFunction)(void (*)(void))k_row_medians, METH_FASTCALL, NULL},
    {"prefix_medians", (PyCFunction)(void (*)(void))k_prefix_medians, METH_FASTCALL, NULL},
    {"moving_median", (PyCFunction)(void (*)(void))k_moving_median, METH_FASTCALL, NULL},
    {"trailing_median", (PyCFunction)(void (*)(void))k_trailing_median, METH_FASTCALL, NULL},
    {"d2_median", (PyCFunction)(void (*)(void))k_d2_median, METH_FASTCALL, NULL},
    {"local_noise", (PyCFunction)(void (*)(void))k_local_noise, METH_FASTCALL, NULL},
    {"noise_model", (PyCFunction)(void (*)(void))k_noise_model, METH_FASTCALL, NULL},
    {"block_spread", (PyCFunction)(void (*)(void))k_block_spread, METH_FASTCALL, NULL},
    {"tiled_path", (PyCFunction)(void (*)(void))k_tiled_path, METH_FASTCALL, NULL},
    {"local_lines", (PyCFunction)(void (*)(void))k_local_lines, METH_FASTCALL, NULL},
    {"equal_runs", (PyCFunction)(void (*)(void))k_equal_runs, METH_FASTCALL, NULL},
    {"first_alternation", (PyCFunction)(void (*)(void))k_first_alternation, METH_FASTCALL,
     NULL},
    {"segment", (PyCFunction)(void (*)(void))k_segment, METH_FASTCALL, NULL},
    {"best_ab", (PyCFunction)(void (*)(void))k_best_ab, METH_FASTCALL, NULL},
    {"records", (PyCFunction)(void (*)(void))k_records, METH_FASTCALL, NULL},
    {"dumps_indented", (PyCFunction)(void (*)(void))k_dumps_indented, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", NULL, -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
