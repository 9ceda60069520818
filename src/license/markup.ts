/**
 * Markup to plain text before license matching, after go-license-detector's processors:
 * HTML loses its tags (keeping link targets, `<br>` as a newline, `<hr>` as `---`, a dot
 * after `<h2>`–`<h6>` headings, nothing of head/script/style/object), Markdown is rendered
 * to HTML first (a CommonMark subset: headings, paragraphs, lists, quotes, code, emphasis,
 * links, with SmartyPants' ellipsis and symbols) and reStructuredText loses its section
 * adornments and inline markup.
 *
 * @module
 */

const ENTITIES: Record<string, string> = {
  nbsp: " ",
  gt: ">",
  lt: "<",
  amp: "&",
  quot: '"',
  apos: "'",
  cent: "¢",
  pound: "£",
  yen: "¥",
  euro: "€",
  copy: "©",
  reg: "®",
  ldquo: "“",
  rdquo: "”",
  lsquo: "‘",
  rsquo: "’",
  sbquo: "‚",
  bdquo: "„",
  ndash: "–",
  mdash: "—",
  bull: "•",
  hellip: "…",
  prime: "′",
  lsaquo: "‹",
  rsaquo: "›",
  trade: "™",
  minus: "−",
  raquo: "»",
  laquo: "«",
  deg: "°",
  sect: "§",
  iexcl: "¡",
  frac12: "½",
  frac14: "¼",
  frac34: "¾",
};

/** Decodes character references as an HTML tokenizer does for text (named ones of the table). */
function unescapeHtml(text: string): string {
  return text.replace(/&(#[xX][0-9a-fA-F]+|#\d+|[a-zA-Z][a-zA-Z0-9]*);?/g, (whole, name) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X"
        ? parseInt(name.slice(2), 16)
        : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : "\ufffd";
    }
    return ENTITIES[name] ?? whole;
  });
}

/** The second, named-only entity pass the detector applies to text it has unescaped. */
function decodeNamedEntities(text: string): string {
  return text.replace(/&([a-zA-Z]+);/g, (whole, name: string) => {
    const lower = name.toLowerCase();
    return lower === "rbquo" ? '"' : ENTITIES[lower] ?? whole;
  });
}

const SKIPPED = /^(head|script|style|object)$/;
const SMALL_HEADING = /^h[2-6]$/;
const MARKS = /[#$%*/\\|><~`=!?.,:;"'\])}-]/;
const TAG_RE =
  /<!--[\s\S]*?(?:-->|$)|<![^>]*>?|<\?[^>]*>?|<(\/?)([a-zA-Z][^\s/>]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g;

/** HTML to text: tags dropped, link targets kept, entities decoded. */
export function htmlToText(html: string): string {
  let out = "";
  let skip = false;
  let href: string | undefined;
  let last = 0;
  const text = (raw: string) => {
    if (skip || raw === "") return;
    let value = unescapeHtml(raw);
    if (href !== undefined) {
      const mine = href;
      href = undefined;
      if (mine === value) return;
      out += " ";
    }
    value = decodeNamedEntities(value).replaceAll("\u00a0", " ");
    out += value;
  };
  for (const match of html.matchAll(TAG_RE)) {
    text(html.slice(last, match.index));
    last = match.index + match[0].length;
    if (match[2] === undefined) continue;
    const name = match[2].toLowerCase();
    const closing = match[1] === "/";
    const attrs = match[3] ?? "";
    if (SKIPPED.test(name)) {
      if (!attrs.trimEnd().endsWith("/")) skip = !skip;
      continue;
    }
    if (skip) continue;
    if (name === "br") out += "\n";
    else if (name === "hr") out += "---";
    else if (name === "a" && !closing) {
      const attr = /(?:^|\s)href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(attrs);
      if (attr) {
        href = unescapeHtml(attr[1] ?? attr[2] ?? attr[3]);
        out += href;
      }
    } else if (closing && SMALL_HEADING.test(name)) {
      if (out.length > 0 && !MARKS.test(out[out.length - 1])) out += ".";
    }
  }
  text(html.slice(last));
  return out;
}

function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/** SmartyPants' replacements that survive normalisation differently from the raw text. */
function smarty(text: string): string {
  return text.replace(/\.\.\.|\. \. \./g, "&hellip;").replace(/\(c\)/gi, "&copy;")
    .replace(/\(r\)/gi, "&reg;").replace(/\(tm\)/gi, "&trade;")
    .replace(
      /(^|[\s(])(1\/2|1\/4|3\/4)(?=$|[\s).,;:])/g,
      (_, pre, frac) => `${pre}&frac${frac.replace("/", "")};`,
    );
}

/** Inline Markdown: code spans, links, autolinks, emphasis; text escaped. */
function inline(text: string): string {
  const spans: string[] = [];
  const re =
    /(`+)([\s\S]*?[^`])\1(?!`)|!?\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)|<((?:https?|ftp|mailto):[^>\s]+)>|(https?:\/\/[^\s<]*[^\s<.,;:!?)\]'"])/g;
  // Code and links become placeholders, so emphasis may span them but never enters them.
  const marked = text.replace(re, (...m: string[]) => {
    if (m[1] !== undefined) spans.push(`<code>${escapeHtml(m[2].trim())}</code>`);
    else if (m[4] !== undefined) {
      spans.push(`<a href="${escapeHtml(m[4])}">${emphasis(smarty(escapeHtml(m[3])))}</a>`);
    } else {
      const url = m[5] ?? m[6];
      spans.push(`<a href="${escapeHtml(url)}">${escapeHtml(url)}</a>`);
    }
    return `\ue000${spans.length - 1}\ue001`;
  });
  return emphasis(smarty(escapeHtml(marked))).replace(/\ue000(\d+)\ue001/g, (_, i) => spans[+i]);
}

function emphasis(text: string): string {
  return text
    .replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, "<strong>$2</strong>")
    .replace(/(^|[^\w*])\*(?=\S)([\s\S]*?\S)\*(?!\w)/g, "$1<em>$2</em>")
    .replace(/(^|[^\w_])_(?=\S)([\s\S]*?\S)_(?!\w)/g, "$1<em>$2</em>")
    .replace(/~~(?=\S)([\s\S]*?\S)~~/g, "<del>$1</del>");
}

/** Markdown to HTML (the block structure that matters for license text). */
export function markdownToHtml(source: string): string {
  const lines = source.replace(/\r\n?/g, "\n").replace(/\t/g, "    ").split("\n");
  const blocks: string[] = [];
  let paragraph: string[] = [];
  /** The open list: items of paragraphs of lines; loose when blank lines separate them. */
  let list: { ordered: boolean; items: string[][][]; loose: boolean; blank: boolean } | undefined;
  const flushParagraph = () => {
    if (paragraph.length > 0) blocks.push(`<p>${inline(paragraph.join("\n").trim())}</p>`);
    paragraph = [];
  };
  const flushList = () => {
    if (!list) return;
    const tag = list.ordered ? "ol" : "ul";
    const loose = list.loose;
    const items = list.items.map((paragraphs) => {
      const parts = paragraphs.map((lines) => inline(lines.join("\n").trim()));
      return loose
        ? `<li><p>${parts.join("</p>\n\n<p>")}</p></li>`
        : `<li>${parts.join("\n")}</li>`;
    });
    blocks.push(`<${tag}>\n${items.join(loose ? "\n\n" : "\n")}\n</${tag}>`);
    list = undefined;
  };
  const flush = () => {
    flushParagraph();
    flushList();
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m: RegExpExecArray | null;
    if (/^\s*$/.test(line)) {
      if (list) list.blank = true;
      else flushParagraph();
      continue;
    }
    if ((m = /^ {0,3}(`{3,}|~{3,})/.exec(line))) {
      flush();
      const fence = m[1];
      const code: string[] = [];
      for (i++; i < lines.length && !lines[i].trimStart().startsWith(fence); i++) {
        code.push(lines[i]);
      }
      blocks.push(`<pre><code>${escapeHtml(code.join("\n"))}\n</code></pre>`);
      continue;
    }
    if ((m = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(line))) {
      flush();
      const level = m[1].length;
      blocks.push(`<h${level}>${inline(m[2].replace(/#+$/, "").trim())}</h${level}>`);
      continue;
    }
    if (paragraph.length > 0 && !list && /^ {0,3}(=+|-+)[ \t]*$/.test(line)) {
      const level = line.trim()[0] === "=" ? 1 : 2;
      const title = paragraph.join("\n").trim();
      paragraph = [];
      blocks.push(`<h${level}>${inline(title)}</h${level}>`);
      continue;
    }
    if (/^ {0,3}([-*_])( *\1){2,} *$/.test(line)) {
      flush();
      blocks.push("<hr />");
      continue;
    }
    if ((m = /^ {0,3}([-*+]|\d+[.)])[ \t]+(.*)$/.exec(line))) {
      flushParagraph();
      const ordered = /\d/.test(m[1]);
      if (list && list.ordered !== ordered) flushList();
      list ??= { ordered, items: [], loose: false, blank: false };
      if (list.blank && list.items.length > 0) list.loose = true;
      list.blank = false;
      list.items.push([[m[2]]]);
      continue;
    }
    if (list) {
      const item = list.items[list.items.length - 1];
      if (/^\s+\S/.test(line)) {
        if (list.blank) {
          item.push([line.trim()]);
          list.loose = true;
        } else item[item.length - 1].push(line.trim());
        list.blank = false;
        continue;
      }
      if (!list.blank) {
        item[item.length - 1].push(line);
        continue;
      }
      flushList();
    }
    if ((m = /^ {0,3}> ?(.*)$/.exec(line))) {
      flush();
      blocks.push(`<blockquote>\n<p>${inline(m[1])}</p>\n</blockquote>`);
      continue;
    }
    if (paragraph.length === 0 && /^ {4}/.test(line)) {
      flush();
      const code = [line.slice(4)];
      while (i + 1 < lines.length && /^( {4}|\s*$)/.test(lines[i + 1])) {
        code.push(lines[++i].slice(4));
      }
      while (code.length > 0 && code[code.length - 1].trim() === "") code.pop();
      blocks.push(`<pre><code>${escapeHtml(code.join("\n"))}\n</code></pre>`);
      continue;
    }
    paragraph.push(line);
  }
  flush();
  return blocks.join("\n\n") + "\n";
}

/** Markdown to text. */
export function markdownToText(source: string): string {
  return htmlToText(markdownToHtml(source));
}

/** reStructuredText to text: section adornment lines and inline markup removed. */
export function restructuredTextToText(source: string): string {
  return source.replace(/\r\n?/g, "\n").split("\n")
    .filter((line) => !/^([=\-`:'"~^_*+#<>.])\1{2,}\s*$/.test(line))
    .map((line) =>
      line.replace(/``([^`]+)``/g, "$1").replace(/\*\*([^*]+)\*\*/g, "$1")
        .replace(/\*([^*]+)\*/g, "$1").replace(/`([^`<]+?)\s*<([^>]+)>`_{1,2}/g, "$1 $2")
        .replace(/`([^`]+)`_{0,2}/g, "$1")
    ).join("\n");
}

/** The preprocessor for a file extension (case-sensitive, as the detector's). */
export function preprocessorFor(extension: string): ((text: string) => string) | undefined {
  switch (extension) {
    case ".md":
      return markdownToText;
    case ".rst":
      return restructuredTextToText;
    case ".html":
      return htmlToText;
    default:
      return undefined;
  }
}
