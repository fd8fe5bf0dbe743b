/*
 * QEMU TCG plugin: exact counts of executed guest instructions.
 *
 * QEMU models no cycles, so a microcontroller build's cost under emulation is measured in
 * instructions executed. The plugin counts every guest instruction of the run and, when given
 * the addresses of two marker functions, the instructions between them. How it is used and how
 * exact it is: docs/mcu-instruction-counting.md.
 *
 *   qemu-system-arm ... -plugin libqemu_icount.so,begin=0x1a5,end=0x1a9,out=counts.txt
 *
 * begin, end  window markers: a window opens when the guest executes the first instruction of
 *             the function at `begin` and closes at the first instruction of the function at
 *             `end`. Thumb symbol values (low bit set) are accepted: the bit is cleared.
 * out         file for the report (default: stderr), written when QEMU exits.
 *
 * Report, one `key value...` line each:
 *   total N            instructions executed by the whole run
 *   begin A, end A     the markers' addresses, hexadecimal (only with begin= and end=)
 *   windows K          windows closed
 *   in_windows N       instructions inside them, summed
 *   window I N         instructions of window I (1-based), one line per window
 *   open_window N      only if QEMU exited inside a window: its instructions so far
 *   unmatched_end N    only if nonzero: `end` reached outside a window (ignored)
 *   repeated_begin N   only if nonzero: `begin` reached inside a window (ignored, the window
 *                      keeps its first start)
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The subset of QEMU's plugin API (include/qemu/qemu-plugin.h, API version 1) this plugin uses.
 * Debian 12 ships QEMU 7.2 without that header, so it is declared here, as in 7.2's header.
 * QEMU resolves these functions in its own executable when it loads the plugin, so the shared
 * library is linked with them undefined.
 */
#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;

typedef struct qemu_info_t {
  const char *target_name;
  struct {
    int min;
    int cur;
  } version;
  bool system_emulation;
  union {
    struct {
      int smp_vcpus;
      int max_vcpus;
    } system;
  };
} qemu_info_t;

struct qemu_plugin_tb;
struct qemu_plugin_insn;

enum qemu_plugin_cb_flags {
  QEMU_PLUGIN_CB_NO_REGS,
  QEMU_PLUGIN_CB_R_REGS,
  QEMU_PLUGIN_CB_RW_REGS,
};

enum qemu_plugin_op {
  QEMU_PLUGIN_INLINE_ADD_U64,
};

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                           qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn,
                                                enum qemu_plugin_op op, void *ptr,
                                                uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb,
                                    void *userdata);

/* QEMU refuses a plugin that does not say which API version it was written against. */
QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;

/*
 * Every translated guest instruction carries an inline add of 1 to `insn_count`, emitted
 * before the instruction's own code. Counting per instruction rather than per translation
 * block keeps the count exact when a block is left early (an instruction in the middle of it
 * faults, e.g. a trapping division): the instructions not reached were never incremented.
 *
 * Windows are differences of that counter: a callback on the marker instructions only (not on
 * every instruction) reads it when a window opens and when it closes. QEMU emits a marker's
 * callback and its inline add in the same order for both markers, so the difference is the
 * same whichever comes first: the instructions from `begin`'s first one up to `end`'s first
 * one, one of the two included.
 *
 * One vCPU is assumed (Cortex-M boards have one): the inline adds are plain, not atomic, and a
 * window is a single state, not one per CPU. System emulation with more CPUs is refused.
 */
static uint64_t insn_count;

static bool have_window;
static uint64_t begin_addr;
static uint64_t end_addr;

static bool in_window;
static uint64_t window_start;
static uint64_t windows_closed;
static uint64_t window_sum;
static uint64_t unmatched_end;
static uint64_t repeated_begin;
/* Each window's count, kept for the report; `windows_listed` < `windows_closed` only if memory
 * ran out, which the report then says. */
static uint64_t *window_counts;
static size_t windows_listed;
static size_t window_capacity;

static FILE *out;
static bool out_is_file;

static void on_begin(unsigned int vcpu_index, void *userdata) {
  (void)vcpu_index;
  (void)userdata;
  if (in_window) {
    ++repeated_begin;
    return;
  }
  in_window = true;
  window_start = insn_count;
}

static void on_end(unsigned int vcpu_index, void *userdata) {
  (void)vcpu_index;
  (void)userdata;
  if (!in_window) {
    ++unmatched_end;
    return;
  }
  in_window = false;
  uint64_t n = insn_count - window_start;
  ++windows_closed;
  window_sum += n;
  if (windows_listed == window_capacity) {
    size_t capacity = window_capacity ? window_capacity * 2 : 64;
    uint64_t *grown = realloc(window_counts, capacity * sizeof(*grown));
    if (!grown) return;
    window_counts = grown;
    window_capacity = capacity;
  }
  window_counts[windows_listed++] = n;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; ++i) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &insn_count, 1);
    if (!have_window) continue;
    /* Checked on every instruction, not only a block's first: a marker entered by falling
     * through (never the case for a called function, but cheap to allow) is still seen. */
    uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
    if (vaddr == begin_addr) {
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_begin, QEMU_PLUGIN_CB_NO_REGS, NULL);
    } else if (vaddr == end_addr) {
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_end, QEMU_PLUGIN_CB_NO_REGS, NULL);
    }
  }
}

static void write_report(qemu_plugin_id_t id, void *userdata) {
  (void)id;
  (void)userdata;
  FILE *f = out ? out : stderr;
  fprintf(f, "total %" PRIu64 "\n", insn_count);
  if (have_window) {
    fprintf(f, "begin 0x%" PRIx64 "\n", begin_addr);
    fprintf(f, "end 0x%" PRIx64 "\n", end_addr);
    fprintf(f, "windows %" PRIu64 "\n", windows_closed);
    fprintf(f, "in_windows %" PRIu64 "\n", window_sum);
    for (size_t i = 0; i < windows_listed; ++i) {
      fprintf(f, "window %zu %" PRIu64 "\n", i + 1, window_counts[i]);
    }
    if (windows_listed != windows_closed) {
      fprintf(f, "windows_unlisted %" PRIu64 "\n", windows_closed - windows_listed);
    }
    if (in_window) fprintf(f, "open_window %" PRIu64 "\n", insn_count - window_start);
    if (unmatched_end) fprintf(f, "unmatched_end %" PRIu64 "\n", unmatched_end);
    if (repeated_begin) fprintf(f, "repeated_begin %" PRIu64 "\n", repeated_begin);
  }
  fflush(f);
  if (out_is_file) {
    fclose(out);
    out = NULL;
  }
  free(window_counts);
  window_counts = NULL;
  windows_listed = window_capacity = 0;
}

static bool parse_address(const char *text, uint64_t *value) {
  char *endp = NULL;
  if (!*text) return false;
  unsigned long long v = strtoull(text, &endp, 0);
  if (*endp) return false;
  *value = (uint64_t)v;
  return true;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  bool have_begin = false, have_end = false;
  const char *out_path = NULL;
  for (int i = 0; i < argc; ++i) {
    const char *arg = argv[i];
    if (strncmp(arg, "begin=", 6) == 0 && parse_address(arg + 6, &begin_addr)) {
      have_begin = true;
    } else if (strncmp(arg, "end=", 4) == 0 && parse_address(arg + 4, &end_addr)) {
      have_end = true;
    } else if (strncmp(arg, "out=", 4) == 0 && arg[4]) {
      out_path = arg + 4;
    } else {
      fprintf(stderr, "qemu_icount: bad argument '%s' (expected begin=ADDR, end=ADDR, out=PATH)\n",
              arg);
      return -1;
    }
  }
  if (have_begin != have_end) {
    fprintf(stderr, "qemu_icount: begin= and end= go together\n");
    return -1;
  }
  if (info->system_emulation && info->system.max_vcpus > 1) {
    fprintf(stderr, "qemu_icount: counts are kept for one vCPU; this machine has up to %d\n",
            info->system.max_vcpus);
    return -1;
  }
  have_window = have_begin;
  if (have_window && strcmp(info->target_name, "arm") == 0) {
    /* Thumb function symbols carry the instruction set in bit 0; instructions are at even
     * addresses. */
    begin_addr &= ~(uint64_t)1;
    end_addr &= ~(uint64_t)1;
  }
  if (have_window && begin_addr == end_addr) {
    fprintf(stderr, "qemu_icount: begin and end are the same address 0x%" PRIx64 "\n", begin_addr);
    return -1;
  }
  if (out_path) {
    /* Opened now, not at exit, so that a path that cannot be written fails the start of the
     * run instead of losing its counts at the end. */
    out = fopen(out_path, "w");
    if (!out) {
      fprintf(stderr, "qemu_icount: cannot write %s\n", out_path);
      return -1;
    }
    out_is_file = true;
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, write_report, NULL);
  return 0;
}
