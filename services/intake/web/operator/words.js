// The operator's board: its words. Static text is written in Korean in the page: only its
// English is here; text the script writes has both languages. The sign-in's words are desk.js's,
// the disaster types' types.js's (both in /ui/common/).
import { add } from "/ui/common/i18n.js";

add({
  en: {
    "brand": "Jikimi situation room",
    "board.title": "Situation board",
    "login.token": "Operator token",
    "filter.district": "District",
    "filter.type": "Type",
    "filter.severity": "Severity",
    "board.incidents": "Incidents",
    "board.arrivals": "New reports",
    "detail.reports": "Reports",
    "detail.close": "Close",
  },
  ko: {
    "all": "전체",
    "none": "조건에 맞는 사건이 없습니다.",
    "unknown": "미상",
    "open": "자세히: {title}",
    "details": "자세히",
    "facts": "{type} · {place} · 신고 {count}건 · {time}",
    "status.open": "진행 중",
    "status.closed": "종결",
    "report.line": "{receipt} · {channel} · {time}",
    "report.unlinked": "사건 미연결",
    "live.open": "실시간 연결됨",
    "live.reconnecting": "다시 연결하는 중…",
    "live.refused": "연결이 거부되었습니다.",
  },
});
add({
  en: {
    "all": "All",
    "none": "No incident matches.",
    "unknown": "unknown",
    "open": "Details: {title}",
    "details": "Details",
    "facts": "{type} · {place} · {count} reports · {time}",
    "status.open": "open",
    "status.closed": "closed",
    "report.line": "{receipt} · {channel} · {time}",
    "report.unlinked": "not in an incident",
    "live.open": "Live",
    "live.reconnecting": "Reconnecting…",
    "live.refused": "Connection refused.",
  },
});
