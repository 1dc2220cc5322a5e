// The disaster types (shared/taxonomy.py's slugs) and severities the desk pages show, with the types'
// names in both languages: t("type.<slug>"), or typeName(slug), which falls back to the slug.

import { add, t } from "./i18n.js";

export const TYPES = [
  "fire", "gas_leak", "building_collapse", "explosion", "inundation", "traffic_accident",
  "subway_accident", "earthquake", "landslide", "power_outage", "chemical_accident", "elevator_accident",
];
export const SEVERITIES = ["minor", "moderate", "severe", "extreme"];

add({
  ko: {
    "type.fire": "화재",
    "type.gas_leak": "가스 사고",
    "type.building_collapse": "건축물 붕괴",
    "type.explosion": "폭발",
    "type.inundation": "침수",
    "type.traffic_accident": "교통사고",
    "type.subway_accident": "지하철 사고",
    "type.earthquake": "지진",
    "type.landslide": "산사태",
    "type.power_outage": "정전",
    "type.chemical_accident": "화학사고",
    "type.elevator_accident": "승강기 사고",
  },
  en: {
    "type.fire": "Fire",
    "type.gas_leak": "Gas accident",
    "type.building_collapse": "Building collapse",
    "type.explosion": "Explosion",
    "type.inundation": "Inundation",
    "type.traffic_accident": "Traffic accident",
    "type.subway_accident": "Subway accident",
    "type.earthquake": "Earthquake",
    "type.landslide": "Landslide",
    "type.power_outage": "Power outage",
    "type.chemical_accident": "Chemical accident",
    "type.elevator_accident": "Elevator accident",
  },
});

export const typeName = (slug) => (t(`type.${slug}`) === `type.${slug}` ? slug : t(`type.${slug}`));
