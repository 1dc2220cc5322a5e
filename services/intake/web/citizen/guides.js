// Every action guide, by name, in the page's language.
import { config, request } from "/ui/common/api.js";
import { lang } from "/ui/common/i18n.js";
import { el, problemText, ready, start } from "/ui/common/page.js";
import "./words.js";

start({ worker: { url: "/ui/citizen/sw.js", scope: "/ui/citizen/" } });

const list = document.getElementById("guides");
let guides = [];

function render() {
  const item = (g) => el("li", {}, el("a", { class: "button", href: `/ui/citizen/guide.html?slug=${encodeURIComponent(g.slug)}` }, lang() === "ko" ? g.ko : g.en));
  list.replaceChildren(el("ul", { class: "cards" }, guides.map(item)));
}

try {
  const { services } = await config();
  guides = await request(`${services.broadcast}/public/guides`, { keep: "jikimi-data" });
  render();
} catch (error) {
  list.replaceChildren(el("p", { class: "error", role: "alert" }, problemText(error)));
}
list.setAttribute("aria-busy", "false");
document.addEventListener("jikimi:lang", render);
ready();
