/* phenomena.c: the report's "Notable phenomena" section (docs/report.md#phenomena).
 *
 * What TSUBAME and @police publish is a few phenomena, each under its own heading, explained in a
 * paragraph with its evidence and shown in a figure; not a list of every detector's output.  So:
 *
 *  - an opening paragraph counts what was found, by kind;
 *  - changes in the traffic (surge, new service, spike, one host's burst) are grouped by what
 *    they concern (two spikes of 5432/TCP in one week are one subsection); the MAX_CHANGES
 *    largest groups by excess packets get a subsection each, in time order, with the daily series
 *    of their service or region as the figure; the others are one table;
 *  - Mirai's infected hosts: a subsection with the hosts a day as the figure;
 *  - DDoS attacks seen as backscatter, floods and reflection aimed at the darknet, scanning tools
 *    and worms, scanners: a subsection each, the largest stated in a sentence, the rest in a table;
 *  - regular cycles, research scanning and sensor outages: a subsection each, a paragraph per
 *    event (at most MAX_LISTED, the rest counted).
 *
 * The sentences are event_en.c's and event_ja.c's (event_text.h); this file only chooses, orders
 * and lays out.  Every order is defined by content: packets (then start time, then the event's
 * place in the list, itself ordered by start and type: analysis/events.c).
 */
#include "report/outline_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/event_int.h"
#include "util/timeutil.h"

#define MAX_CHANGES 5   /* subsections of changes in the traffic */
#define MAX_LISTED 5    /* paragraphs of a listed kind before the rest are counted */
#define MAX_ROWS 10     /* rows of a table of events */

typedef struct phen {
    ds_walk *w;
    ds_event_words words;
    int sub;            /* subsections so far: "4.<sub>" */
    ds_out s;
} phen;

static const ds_event **list_of(const ds_events *e, const char *const *types, size_t *n)
{
    const ds_event **l = malloc((e->n ? e->n : 1) * sizeof *l);
    *n = 0;
    if (!l)
        return NULL;
    for (size_t i = 0; i < e->n; i++)
        for (size_t t = 0; types[t]; t++)
            if (!strcmp(e->ev[i].type, types[t])) {
                l[(*n)++] = &e->ev[i];
                break;
            }
    return l;
}

/* Packets, descending; then start; then place in the list (which is in content order: events.c ev_cmp). */
static int by_packets(const void *a, const void *b)
{
    const ds_event *x = *(const ds_event *const *)a, *y = *(const ds_event *const *)b;
    if (x->packets != y->packets)
        return x->packets > y->packets ? -1 : 1;
    if (x->start_ns != y->start_ns)
        return x->start_ns < y->start_ns ? -1 : 1;
    return x < y ? -1 : x > y;
}

static void subheading(phen *p, const char *text)
{
    char h[512];
    p->sub++;
    ds_fmt_text(h, sizeof h, "%d.%d %s", p->w->nsections, p->sub, text);
    ds_walk_heading(p->w, 3, NULL, h);
}

static ds_rc para_of(phen *p, const ds_event *v)
{
    p->s.len = 0;
    ds_event_sentence(v, &p->words, &p->s);
    return ds_walk_para(p->w, DS_PARA_TEXT, &p->s);
}

/* "1 more <one>." / "N more <many>." / 「ほかにN<ja>。」 */
static ds_rc note(phen *p, size_t n, const char *one, const char *many, const char *ja)
{
    p->s.len = 0;
    if (p->w->ja)
        ds_out_printf(&p->s, "ほかに%zu%s。", n, ja);
    else
        ds_out_printf(&p->s, "%zu more %s.", n, n == 1 ? one : many);
    return ds_walk_para(p->w, DS_PARA_NOTE, &p->s);
}

/* "5 July – 3 August 2023" / 「2023年7月5日～8月3日」 style: both days in full, for tables. */
static char *days_text(const phen *p, const ds_event *v, char *buf, size_t len)
{
    char a[DS_FMT_DAY_LEN], b[DS_FMT_DAY_LEN];
    int32_t d0 = ds_ev_day(v->start_ns), d1 = ds_ev_day(v->end_ns);
    ds_fmt_day_iso(d0, a, sizeof a);
    if (d0 == d1)
        return ds_fmt_text(buf, len, "%s", a);
    ds_fmt_day_iso(d1, b, sizeof b);
    return ds_fmt_text(buf, len, p->w->ja ? "%s～%s" : "%s – %s", a, b);
}

static const char *cell_count(uint64_t n, char *buf, size_t len) { return ds_fmt_count(n, buf, len); }

/* ---- changes in the traffic ---------------------------------------------------------------- */

static const char *const CHANGE_TYPES[] = { "surge", "new_service", "spike", "single_source", NULL };

/* Same subject: the same service, or the same region, of a change. */
static int same_subject(const ds_event *a, const ds_event *b)
{
    int ca = ds_event_fact(a, "of_country") != NULL, cb = ds_event_fact(b, "of_country") != NULL;
    if (ca != cb)
        return 0;
    return ca ? !strcmp(a->country, b->country) : a->service == b->service;
}

/* at: the place of the group's first event in the event list, which is in content order
 * (events.c, ev_cmp): the last tie-break of both orders below, so that groups equal in excess and
 * start keep a content order rather than qsort's whim. */
typedef struct group { const ds_event *ev[8]; size_t n; double excess; uint64_t start; size_t at; } group;

/* Which changes get a section: the largest excess first, then the earliest, then list order. */
static int group_by_excess(const void *a, const void *b)
{
    const group *x = a, *y = b;
    if (x->excess != y->excess)
        return x->excess > y->excess ? -1 : 1;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (x->at > y->at) - (x->at < y->at);
}

/* The sections' order: by start, then the largest excess, then list order. */
static int group_by_start(const void *a, const void *b)
{
    const group *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->excess != y->excess)
        return x->excess > y->excess ? -1 : 1;
    return (x->at > y->at) - (x->at < y->at);
}

/* v's daily series over the report's days (NaN where it has none), or NULL: out of memory. */
static double *period_values(const ds_report *r, const ds_event *v)
{
    double *vals = malloc((size_t)r->days * sizeof *vals);
    for (int32_t d = 0; vals && d < r->days; d++) {
        int64_t k = (int64_t)(r->o.period.from + d) - v->series.day0;
        vals[d] = k >= 0 && (size_t)k < v->series.n ? v->series.v[k] : NAN;
    }
    return vals;
}

/* The daily series of a group's subject over the report's days (NaN where not observed). */
static ds_rc change_figure(phen *p, const group *g, size_t idx)
{
    ds_walk *w = p->w;
    const ds_report *r = w->r;
    const ds_event *v = g->ev[0];
    if (!v->series.n || r->days <= 0)
        return DS_OK;
    double *vals = period_values(r, v);
    if (!vals)
        return ds_walk_oom(w);
    ds_out subj, title;
    ds_out_init(&subj, 0);
    ds_out_init(&title, 0);
    char svc[DS_SERVICE_STRLEN];
    int of_country = ds_event_fact(v, "of_country") != NULL;
    ds_out_puts(&subj, of_country ? ds_ev_country(&p->words, v->country) : ds_ev_service(v->service, svc, sizeof svc));
    ds_out_putn(&subj, "", 1);
    const char *label = subj.failed ? "" : subj.p;
    if (w->ja)
        ds_out_printf(&title, "%s%sの日別パケット数", label, of_country ? "から" : "宛て");
    else
        ds_out_printf(&title, "Daily packets %s %s", of_country ? "from" : "to",
                      of_country ? ds_ev_country_en(&p->words, v->country) : label);
    ds_out_putn(&title, "", 1);
    char name[32];
    snprintf(name, sizeof name, "phenomenon-%zu", idx + 1);
    ds_rc rc = subj.failed || title.failed
                   ? ds_walk_oom(w)
                   : ds_walk_line_figure(w, name, title.p, ds_msg_text(w->lang, DS_MSG_Y_PACKETS), &label, vals, 1, title.p);
    free(vals);
    ds_out_free(&subj);
    ds_out_free(&title);
    return rc;
}

static ds_rc changes(phen *p, const ds_event **l, size_t n)
{
    ds_walk *w = p->w;
    ds_rc rc = DS_OK;
    group *g = calloc(n ? n : 1, sizeof *g);
    size_t ng = 0;
    if (!g)
        return ds_walk_oom(w);
    for (size_t i = 0; i < n; i++) {   /* l is in time order: a group's events are too */
        group *to = NULL;
        for (size_t k = 0; k < ng && !to; k++)
            if (same_subject(g[k].ev[0], l[i]) && g[k].n < sizeof g[k].ev / sizeof g[k].ev[0])
                to = &g[k];
        if (!to) {
            to = &g[ng++];
            to->start = l[i]->start_ns;
            to->at = i;
        }
        to->ev[to->n++] = l[i];
        double ex = ds_event_num(l[i], "excess_packets", (double)l[i]->packets);
        to->excess += isfinite(ex) ? ex : 0;
    }
    qsort(g, ng, sizeof *g, group_by_excess);
    size_t shown = ng < MAX_CHANGES ? ng : MAX_CHANGES;
    qsort(g, shown, sizeof *g, group_by_start);
    for (size_t k = 0; k < shown && rc == DS_OK; k++) {
        ds_out h;
        ds_out_init(&h, 0);
        ds_event_heading(g[k].ev[0], &p->words, &h);
        char a[DS_FMT_DAY_LEN], b[DS_FMT_DAY_LEN];
        int32_t d0 = ds_ev_day(g[k].ev[0]->start_ns), d1 = ds_ev_day(g[k].ev[g[k].n - 1]->end_ns);
        ds_fmt_day(d0, w->ja, a, sizeof a);
        ds_fmt_day(d1, w->ja, b, sizeof b);
        if (d0 == d1)
            ds_out_printf(&h, w->ja ? "（%s）" : " (%s)", a);
        else
            ds_out_printf(&h, w->ja ? "（%s～%s）" : " (%s – %s)", a, b);
        ds_out_putn(&h, "", 1);
        if (h.failed) {
            ds_out_free(&h);
            rc = ds_walk_oom(w);
            break;
        }
        subheading(p, h.p);
        ds_out_free(&h);
        for (size_t i = 0; i < g[k].n && rc == DS_OK; i++)
            rc = para_of(p, g[k].ev[i]);
        if (rc == DS_OK)
            rc = change_figure(p, &g[k], (size_t)p->sub - 1);
    }
    if (rc == DS_OK && ng > shown) {
        /* the rest: one table, largest first */
        const ds_event **rest = malloc(n * sizeof *rest);
        size_t nr = 0;
        if (!rest) {
            free(g);
            return ds_walk_oom(w);
        }
        for (size_t k = shown; k < ng; k++)
            for (size_t i = 0; i < g[k].n; i++)
                rest[nr++] = g[k].ev[i];
        qsort(rest, nr, sizeof *rest, by_packets);
        subheading(p, w->ja ? "その他の変化" : "Other changes");
        ds_walk_tab tb = { 0 };
        ds_out_init(&tb.text, 0);
        size_t rows = nr < MAX_ROWS ? nr : MAX_ROWS;
        for (size_t i = 0; i < rows; i++) {
            ds_out c;
            char d[2 * DS_FMT_DAY_LEN + 8], pk[32], src[32];
            ds_out_init(&c, 0);
            ds_event_heading(rest[i], &p->words, &c);
            ds_out_putn(&c, "", 1);
            ds_walk_tab_cell(&tb, c.failed ? "" : c.p);
            ds_out_free(&c);
            ds_walk_tab_cell(&tb, days_text(p, rest[i], d, sizeof d));
            ds_walk_tab_cell(&tb, cell_count(rest[i]->packets, pk, sizeof pk));
            ds_walk_tab_cell(&tb, cell_count(rest[i]->sources, src, sizeof src));
        }
        static const unsigned char num[] = { 0, 0, 1, 1 };
        const char *head_en[] = { "Change", "Days", "Packets", "Sources" },
                   *head_ja[] = { "変化", "期間", "パケット数", "送信元数" };
        rc = ds_walk_tab_emit(w, &tb, "tab-changes", w->ja ? "その他の変化" : "Other changes in the traffic",
                              w->ja ? head_ja : head_en, num, 4);
        ds_walk_tab_free(&tb);
        if (rc == DS_OK && nr > rows)
            rc = note(p, nr - rows, "change is not listed", "changes are not listed", "件の変化がありました");
        free(rest);
    }
    free(g);
    return rc;
}

/* ---- Mirai ------------------------------------------------------------------------------- */

static ds_rc mirai(phen *p, const ds_event *v)
{
    ds_walk *w = p->w;
    const ds_report *r = w->r;
    subheading(p, w->ja ? "Mirai感染ホスト" : "Mirai-infected hosts");
    ds_rc rc = para_of(p, v);
    if (rc != DS_OK || !v->series.n || r->days <= 0)
        return rc;
    double *vals = period_values(r, v);
    if (!vals)
        return ds_walk_oom(w);
    const char *label = w->ja ? "感染ホスト数" : "Infected hosts";
    rc = ds_walk_line_figure(w, "phenomenon-mirai", w->ja ? "Miraiの特徴を持つ送信元の日別ホスト数" : "Hosts sending with Mirai's fingerprint, a day",
                             w->ja ? "ホスト数" : "Hosts", &label, vals, 1,
                             w->ja ? "Miraiの特徴を持つ送信元の日別ホスト数" : "Hosts sending with Mirai's fingerprint, a day");
    free(vals);
    return rc;
}

/* ---- one sentence for the largest, a table for all -------------------------------------- */

typedef void (*row_fn)(phen *p, const ds_event *v, ds_walk_tab *t);

typedef struct table_kind {
    /* the intro is "<count> <intro_en> The largest:" / 「<intro_ja[0]><count><intro_ja[1]>最大のものは次のとおりです。」 */
    const char *id, *head_en, *head_ja, *title_en, *title_ja, *intro_en, *intro_ja[2];
    size_t ncols;
    const char *const *cols_en, *const *cols_ja;
    const unsigned char *numeric;
    row_fn row;
} table_kind;

static void source_cells(phen *p, const ds_event *v, ds_walk_tab *t)
{
    char asn[16] = "";
    const ds_event_source *s = v->ntop ? &v->top[0] : NULL;
    ds_walk_tab_cell(t, s ? s->addr : "");
    ds_walk_tab_cell(t, s ? ds_ev_country(&p->words, s->cc) : "");
    if (s && s->asn)
        snprintf(asn, sizeof asn, "AS%u", (unsigned)s->asn);
    ds_walk_tab_cell(t, asn);
}

static void time_cells(phen *p, const ds_event *v, ds_walk_tab *t)
{
    char a[48], d[32];
    int64_t t0 = (int64_t)(v->start_ns / 1000000000ULL), t1 = (int64_t)(v->end_ns / 1000000000ULL);
    ds_walk_tab_cell(t, ds_ev_time(t0, 0, 0, a, sizeof a));
    ds_walk_tab_cell(t, ds_ev_dur((double)(t1 - t0), p->w->ja, d, sizeof d));
}

static void backscatter_row(phen *p, const ds_event *v, ds_walk_tab *t)
{
    char pk[32], svc[DS_SERVICE_STRLEN] = "", peak[32];
    source_cells(p, v, t);
    ds_walk_tab_cell(t, v->has_service ? ds_ev_service(v->service, svc, sizeof svc) : "");
    time_cells(p, v, t);
    ds_walk_tab_cell(t, cell_count(v->packets, pk, sizeof pk));
    double m = ds_event_num(v, "peak_packets_per_60s", 0);
    ds_walk_tab_cell(t, cell_count(isfinite(m) && m > 0 ? (uint64_t)m : 0, peak, sizeof peak));
}

static void tool_row(phen *p, const ds_event *v, ds_walk_tab *t)
{
    char svc[DS_SERVICE_STRLEN] = "", src[32], pk[32], d[2 * DS_FMT_DAY_LEN + 8], cc[16];
    const ds_event_evidence *m = ds_event_fact(v, "main_service_share");
    ds_service s;
    ds_walk_tab_cell(t, ds_ev_tool_title(v->tool));
    if (m && !ds_service_parse(m->text, &s))
        ds_ev_service(s, svc, sizeof svc);
    ds_walk_tab_cell(t, svc[0] ? svc : (p->w->ja ? "多数" : "many"));
    ds_walk_tab_cell(t, cell_count(v->sources, src, sizeof src));
    double ncc = ds_event_num(v, "countries", 1);
    snprintf(cc, sizeof cc, "%.0f", isfinite(ncc) && ncc > 0 ? ncc : 1);
    ds_walk_tab_cell(t, cc);
    ds_walk_tab_cell(t, cell_count(v->packets, pk, sizeof pk));
    ds_walk_tab_cell(t, days_text(p, v, d, sizeof d));
}

static void scan_row(phen *p, const ds_event *v, ds_walk_tab *t)
{
    char svc[DS_SERVICE_STRLEN], a[32], sw[32], pk[32];
    source_cells(p, v, t);
    ds_walk_tab_cell(t, ds_ev_service(v->service, svc, sizeof svc));
    ds_walk_tab_cell(t, cell_count((uint64_t)llround(ds_event_num(v, "addresses", 0)), a, sizeof a));
    ds_walk_tab_cell(t, cell_count((uint64_t)llround(ds_event_num(v, "sweeps", 1)), sw, sizeof sw));
    ds_walk_tab_cell(t, cell_count(v->packets, pk, sizeof pk));
}

static const char *const BS_EN[] = { "Victim", "Region", "AS", "Port", "Start (UTC)", "Duration", "Packets", "Peak / 60 s" };
static const char *const BS_JA[] = { "被害ホスト", "国・地域", "AS", "ポート", "開始（UTC）", "継続時間", "パケット数", "60秒最大" };
static const unsigned char BS_NUM[] = { 0, 0, 0, 0, 0, 1, 1, 1 };
static const char *const TOOL_EN[] = { "Tool", "Service", "Sources", "Regions", "Packets", "Days" };
static const char *const TOOL_JA[] = { "ツール", "宛先ポート", "送信元数", "国・地域数", "パケット数", "期間" };
static const unsigned char TOOL_NUM[] = { 0, 0, 1, 1, 1, 0 };
static const char *const SCAN_EN[] = { "Source", "Region", "AS", "Service", "Addresses", "Sweeps", "Packets" };
static const char *const SCAN_JA[] = { "送信元", "国・地域", "AS", "宛先ポート", "アドレス数", "回数", "パケット数" };
static const unsigned char SCAN_NUM[] = { 0, 0, 0, 0, 1, 1, 1 };

static const table_kind BACKSCATTER = {
    "tab-ddos", "DDoS attacks seen as backscatter", "バックスキャッタから推定したDDoS攻撃", "DDoS attacks by packets of backscatter",
    "バックスキャッタのパケット数によるDDoS攻撃",
    "DDoS attacks were inferred from the answers their victims sent to the darknet's addresses, which the attackers "
    "had spoofed.",
    { "攻撃者が送信元として詐称したダークネットのアドレスに被害ホストが返した応答（バックスキャッタ）から、",
      "件のDDoS攻撃を推定しました。" },
    8, BS_EN, BS_JA, BS_NUM, backscatter_row,
};
static const table_kind TOOLS = {
    "tab-tools", "Scanning tools and worms", "スキャンツール・ワーム", "Campaigns of scanning tools and worms by packets",
    "スキャンツール・ワームの活動（パケット数順）",
    "campaigns of known scanning tools and worms were identified by the fingerprints of their packets.",
    { "パケットの特徴から、既知のスキャンツール・ワームによる活動を", "件識別しました。" },
    6, TOOL_EN, TOOL_JA, TOOL_NUM, tool_row,
};
static const table_kind SCANS = {
    "tab-scans", "Scanners", "スキャン送信元", "Scanners by packets", "スキャン送信元（パケット数順）",
    "sources scanned a large share of the darknet's addresses on one service.",
    { "", "件の送信元が、1つのサービスについてダークネットのアドレスの多くを走査しました。" },
    7, SCAN_EN, SCAN_JA, SCAN_NUM, scan_row,
};

static ds_rc largest_and_table(phen *p, const table_kind *k, const ds_event **l, size_t n)
{
    ds_walk *w = p->w;
    qsort(l, n, sizeof *l, by_packets);
    subheading(p, w->ja ? k->head_ja : k->head_en);
    p->s.len = 0;
    if (n > 1 && w->ja)
        ds_out_printf(&p->s, "%s%zu%s最大のものは次のとおりです。", k->intro_ja[0], n, k->intro_ja[1]);
    else if (n > 1)
        ds_out_printf(&p->s, "%zu %s The largest: ", n, k->intro_en);
    ds_event_sentence(l[0], &p->words, &p->s);
    ds_rc rc = ds_walk_para(w, DS_PARA_TEXT, &p->s);
    if (rc != DS_OK || n < 2)
        return rc;
    ds_walk_tab tb = { 0 };
    ds_out_init(&tb.text, 0);
    size_t rows = n < MAX_ROWS ? n : MAX_ROWS;
    for (size_t i = 0; i < rows; i++)
        k->row(p, l[i], &tb);
    rc = ds_walk_tab_emit(w, &tb, k->id, w->ja ? k->title_ja : k->title_en, w->ja ? k->cols_ja : k->cols_en, k->numeric,
                          k->ncols);
    ds_walk_tab_free(&tb);
    if (rc == DS_OK && n > rows)
        rc = note(p, n - rows, "is not listed", "are not listed", "件ありました");
    return rc;
}

/* ---- a paragraph each ---------------------------------------------------------------------- */

static ds_rc listed(phen *p, const char *head_en, const char *head_ja, const ds_event **l, size_t n, int largest_first)
{
    if (largest_first)
        qsort(l, n, sizeof *l, by_packets);
    subheading(p, p->w->ja ? head_ja : head_en);
    ds_rc rc = DS_OK;
    size_t shown = n < MAX_LISTED ? n : MAX_LISTED;
    for (size_t i = 0; i < shown && rc == DS_OK; i++)
        rc = para_of(p, l[i]);
    if (rc == DS_OK && n > shown)
        rc = note(p, n - shown, "is not described", "are not described", "件ありました");
    return rc;
}

/* ---- the section --------------------------------------------------------------------------- */

static const char *const MIRAI_TYPES[] = { "mirai", NULL };
static const char *const BACKSCATTER_TYPES[] = { "backscatter", NULL };
static const char *const FLOOD_TYPES[] = { "flood", "reflection", NULL };
static const char *const TOOL_TYPES[] = { "tool", NULL };
static const char *const SCAN_TYPES[] = { "scan", "vertical_scan", NULL };
static const char *const CYCLE_TYPES[] = { "periodic_daily", "periodic_weekly", NULL };
static const char *const RESEARCH_TYPES[] = { "research_scanner", NULL };
static const char *const SILENT_TYPES[] = { "sensor_silent", NULL };

ds_rc ds_report_phenomena_section(ds_walk *w)
{
    const ds_report *r = w->r;
    phen p = { .w = w, .words = { .lang = w->lang, .names = r->names, .geo = r->geo } };
    char head[128];
    ds_rc rc = DS_OK;
    const ds_event **l = NULL;
    w->nsections++;
    ds_fmt_text(head, sizeof head, "%d. %s", w->nsections, ds_msg_text(w->lang, DS_MSG_PHENOMENA));
    ds_walk_heading(w, 2, "phenomena", head);
    ds_out_init(&p.s, 0);
    if (!r->events.n) {
        ds_out_puts(&p.s, ds_msg_text(w->lang, DS_MSG_NO_PHENOMENA));
        rc = ds_walk_para(w, DS_PARA_TEXT, &p.s);
        goto out;
    }
    /* what each kind is called in the opening: "<n> <one|many>" / 「<ja><n><ja_unit>」 (no count: n == 0) */
    static const struct {
        const char *const *types;
        const char *one, *many, *ja, *ja_unit;
        int counted;
    } KINDS[] = {
        { CHANGE_TYPES, "change in the traffic to a service or from a region",
          "changes in the traffic to services or from regions", "サービス宛て・地域からの通信の変化", "件", 1 },
        { MIRAI_TYPES, "Mirai infections", "Mirai infections", "Miraiの感染活動", "", 0 },
        { BACKSCATTER_TYPES, "DDoS attack seen as backscatter", "DDoS attacks seen as backscatter",
          "バックスキャッタから推定したDDoS攻撃", "件", 1 },
        { FLOOD_TYPES, "flood or reflection attack aimed at the darknet", "floods or reflection attacks aimed at the darknet",
          "ダークネットを狙ったフラッド・リフレクション攻撃", "件", 1 },
        { TOOL_TYPES, "campaign of a scanning tool or worm", "campaigns of scanning tools and worms",
          "スキャンツール・ワームの活動", "件", 1 },
        { SCAN_TYPES, "scanner", "scanners", "スキャン送信元", "件", 1 },
        { CYCLE_TYPES, "regular cycle", "regular cycles", "周期的な変動", "件", 1 },
        { RESEARCH_TYPES, "organisation's research scanning", "organisations' research scanning", "調査目的のスキャン",
          "組織", 1 },
        { SILENT_TYPES, "sensor outage", "sensor outages", "センサーの停止", "件", 1 },
    };
    size_t nk = sizeof KINDS / sizeof KINDS[0], cnt[sizeof KINDS / sizeof KINDS[0]], parts = 0, done = 0;
    for (size_t k = 0; k < nk; k++) {
        free(l);
        if (!(l = list_of(&r->events, KINDS[k].types, &cnt[k]))) {
            rc = ds_walk_oom(w);
            goto out;
        }
        parts += cnt[k] > 0;
    }
    /* the opening: what was found, by kind */
    ds_out_puts(&p.s, w->ja ? "期間中に次の現象を検出しました：" : "In the period, darkscope found ");
    for (size_t k = 0; k < nk; k++) {
        if (!cnt[k])
            continue;
        done++;
        if (done > 1)
            ds_out_puts(&p.s, w->ja ? "、" : done == parts ? (parts > 2 ? ", and " : " and ") : ", ");
        if (w->ja && KINDS[k].counted)
            ds_out_printf(&p.s, "%s%zu%s", KINDS[k].ja, cnt[k], KINDS[k].ja_unit);
        else if (w->ja)
            ds_out_puts(&p.s, KINDS[k].ja);
        else if (KINDS[k].counted)
            ds_out_printf(&p.s, "%zu %s", cnt[k], cnt[k] == 1 ? KINDS[k].one : KINDS[k].many);
        else
            ds_out_puts(&p.s, KINDS[k].many);
    }
    ds_out_puts(&p.s, w->ja ? "。主なものを以下に示します。" : ". The main ones follow.");
    if ((rc = ds_walk_para(w, DS_PARA_TEXT, &p.s)) != DS_OK)
        goto out;
    size_t n;
    for (size_t k = 0; k < nk && rc == DS_OK; k++) {
        if (!cnt[k])
            continue;
        free(l);
        if (!(l = list_of(&r->events, KINDS[k].types, &n))) {
            rc = ds_walk_oom(w);
            goto out;
        }
        switch (k) {
        case 0: rc = changes(&p, l, n); break;
        case 1: rc = mirai(&p, l[0]); break;
        case 2: rc = largest_and_table(&p, &BACKSCATTER, l, n); break;
        case 3: rc = listed(&p, "Floods and reflection aimed at the darknet", "ダークネットを狙ったフラッド・リフレクション攻撃", l, n, 1); break;
        case 4: rc = largest_and_table(&p, &TOOLS, l, n); break;
        case 5: {
            /* horizontal scans in a table, vertical scans a paragraph each */
            size_t nh = 0, nv = 0;
            const ds_event **h = malloc(n * sizeof *h), **v = malloc(n * sizeof *v);
            if (!h || !v) {
                free(h);
                free(v);
                rc = ds_walk_oom(w);
                break;
            }
            for (size_t i = 0; i < n; i++) {
                if (!strcmp(l[i]->type, "scan"))
                    h[nh++] = l[i];
                else
                    v[nv++] = l[i];
            }
            if (nh)
                rc = largest_and_table(&p, &SCANS, h, nh);
            if (rc == DS_OK && nv)
                rc = listed(&p, "Vertical scans", "垂直スキャン", v, nv, 1);
            free(h);
            free(v);
            break;
        }
        case 6: rc = listed(&p, "Regular cycles", "周期的な変動", l, n, 1); break;
        case 7: rc = listed(&p, "Research scanning", "調査目的のスキャン", l, n, 1); break;
        case 8: rc = listed(&p, "Sensor outages", "センサーの停止", l, n, 0); break;
        }
    }
out:
    free(l);
    ds_out_free(&p.s);
    return rc;
}
