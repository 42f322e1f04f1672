// i18n.js: the app's words in English and Japanese, and numbers, dates and country names in
// either (Intl, built into the browser: nothing is fetched).
const WORDS = {
  en: {
    overview: 'Overview', events: 'Events', sensors: 'Sensors', apply: 'Show', lang_other: '日本語',
    day: 'Day', week: 'Week', month: 'Month', quarter: 'Quarter', custom: 'Custom',
    packets: 'Packets', sources: 'Sources', share: 'Share', per_ip_day: 'Per IP per day', rank: 'Rank',
    prev_rank: 'Prev. rank', change: 'Change', service: 'Service', country: 'Region', asn: 'ASN', org: 'Organisation',
    source: 'Source', days: 'Days', first_seen: 'First seen', last_seen: 'Last seen',
    top_services: 'Top services', top_regions: 'Top regions', top_asns: 'Top ASNs', top_sources: 'Top sources',
    daily: 'Daily packets and sources', hourly: 'Hourly packets received (all sensors)',
    total_packets: 'Packets', total_sources: 'Unique sources', period: 'Period', previous: 'previous period',
    new_entry: 'new', services_of: 'Services', timeline: 'Daily packets', events_of: 'Events naming this source',
    type: 'Type', start: 'Start', end: 'End', summary: 'Summary', all_types: 'all types', all_services: 'all services', all_regions: 'all regions', none: 'Nothing in this period.',
    sensor: 'Sensor', covered_days: 'Covered days', outages: 'Outages', silent: 'Silent for', last_upload: 'Last upload',
    lag: 'Lag', drops: 'Kernel drops', spool: 'Spool bytes', segments: 'Segments', health: 'Live sensors (collector)',
    coverage: 'Coverage and counts', no_live: 'No sensor uploads to a collector feeding this store.',
    csv: 'CSV', json: 'JSON', login: 'This dashboard needs a reader token (darkscope token new NAME --tokens FILE), or a name and password (darkscope user add NAME --users FILE: reload the page).',
    region: 'Region', date: 'Date', no_data: 'no data', of_service: 'of', from_region: 'from', timezone: 'Times in',
    iot: 'IoT', iot_share: 'IoT share of the top %d services', shaded: 'Shaded: hours a sensor was out (%d outages).',
    source_ports: 'Source ports', sport: 'Source port', various: 'several, or none (ICMP)', payloads_of: 'First payloads',
    no_payloads: 'This store keeps no payloads (sensor --respond syn).', time: 'Time', destination: 'Destination',
    len: 'Length', excerpt: 'Excerpt', timeline_events: 'Events active each day, by type', evidence: 'Evidence',
    evidence_series: 'The daily series the detector saw', measure: 'Measure', value: 'Value', of: 'Of',
  },
  ja: {
    overview: '概況', events: 'イベント', sensors: 'センサー', apply: '表示', lang_other: 'English',
    day: '日', week: '週', month: '月', quarter: '四半期', custom: '期間指定',
    packets: 'パケット数', sources: '送信元数', share: '割合', per_ip_day: '1IPあたり/日', rank: '順位',
    prev_rank: '前期順位', change: '増減', service: 'サービス', country: '地域', asn: 'AS番号', org: '組織',
    source: '送信元', days: '観測日数', first_seen: '初観測', last_seen: '最終観測',
    top_services: '宛先サービス上位', top_regions: '送信元地域上位', top_asns: '送信元AS上位', top_sources: '送信元上位',
    daily: '日別パケット数と送信元数', hourly: '時間別受信パケット数（全センサー）',
    total_packets: 'パケット数', total_sources: 'ユニーク送信元数', period: '期間', previous: '前期',
    new_entry: '新規', services_of: '宛先サービス', timeline: '日別パケット数', events_of: 'この送信元を含むイベント',
    type: '種別', start: '開始', end: '終了', summary: '概要', all_types: 'すべての種別', all_services: 'すべてのサービス', all_regions: 'すべての地域', none: 'この期間には該当がありません。',
    sensor: 'センサー', covered_days: '観測日数', outages: '欠測', silent: '無通信時間', last_upload: '最終アップロード',
    lag: '遅延', drops: 'カーネル破棄', spool: 'スプール', segments: 'セグメント', health: 'ライブセンサー（コレクター）',
    coverage: '観測範囲と件数', no_live: 'このストアに送るコレクター経由のセンサーはありません。',
    csv: 'CSV', json: 'JSON', login: 'このダッシュボードには閲覧用トークン（darkscope token new NAME --tokens FILE）、またはユーザー名とパスワード（darkscope user add NAME --users FILE：ページを再読み込み）が必要です。',
    region: '地域', date: '日付', no_data: 'データなし', of_service: '宛て', from_region: 'から', timezone: '時刻は',
    iot: 'IoT', iot_share: '上位%dポートに占めるIoT機器を狙うポートの割合', shaded: '網掛け：センサーが停止していた時間（欠測%d件）',
    source_ports: '送信元ポート', sport: '送信元ポート', various: '複数、またはなし（ICMP）', payloads_of: '最初のペイロード',
    no_payloads: 'このストアはペイロードを保存していません（sensor --respond syn）。', time: '時刻', destination: '宛先',
    len: '長さ', excerpt: '抜粋', timeline_events: '種別ごとの日別イベント数', evidence: '根拠',
    evidence_series: '検知に用いた日別系列', measure: '指標', value: '値', of: '対象',
  },
};

let lang = 'en';
export function setLang(l) { lang = l === 'ja' ? 'ja' : 'en'; document.documentElement.lang = lang; }
export function getLang() { return lang; }
export function t(key) { return (WORDS[lang] && WORDS[lang][key]) || WORDS.en[key] || key; }

// 1,234,567 in both languages (as the published reports print them)
export function num(v) { return v === null || v === undefined ? '—' : Number(v).toLocaleString('en-US'); }
export function pct(v, digits = 2) { return (100 * v).toFixed(digits) + '%'; }

const regionNames = {};
export function region(cc) {
  if (cc === 'ZZ') return lang === 'ja' ? '不明・特殊用途' : 'unknown / special-purpose';
  try {
    regionNames[lang] = regionNames[lang] || new Intl.DisplayNames([lang], { type: 'region' });
    return regionNames[lang].of(cc) || cc;
  } catch (e) { return cc; }
}
