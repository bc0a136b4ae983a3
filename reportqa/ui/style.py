"""Look and page behaviour: theme, CSS, and the small script behind links inside rendered HTML.

Gradio strips scripts from HTML it renders, so links in answers ([n], 「在文档中打开」)
carry data attributes and one delegated click handler in the page head acts on them.
"""

from __future__ import annotations

import gradio as gr

THEME = gr.themes.Soft(
    primary_hue="blue",
    font=["Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "system-ui", "sans-serif"],
    font_mono=["Noto Sans Mono CJK SC", "ui-monospace", "monospace"],
)

# Gradio's own Chinese strings lack the chat's copy button (its tooltip reads "Copy message"); the app
# speaks Chinese whatever the browser's language, so English is overridden too.
I18N = gr.I18n(**{
    locale: {"chatbot.copy_message": "复制", "chatbot.copied_message": "已复制"} for locale in ("en", "zh-CN")
})

CSS = """
.gradio-container {padding-top: 6px !important;}
.rq-header {font-size: 0.9rem; color: var(--body-text-color-subdued); margin: 0;}
.rq-header b {color: var(--body-text-color);}
.rq-hidden {display: none !important;}
/* the chat's own trash icon clears without asking; 「清空对话」 below asks first */
#rq-chat button[aria-label="清空对话"], #rq-chat button[aria-label="Clear"] {display: none !important;}
#rq-chat {height: calc(100vh - 290px) !important; min-height: 300px; max-height: none !important;}
.rq-answer {line-height: 1.75; font-size: 1rem;}
.rq-answer p {margin: 2px 0;}
.rq-answer ul {margin: 2px 0 6px 0; padding-left: 1.3em;}
.rq-answer li {margin: 3px 0;}
.rq-answer h4 {margin: 8px 0 2px 0; font-size: 0.95rem; color: var(--color-accent);}
.rq-answer .rq-sec {font-size: 0.78rem; color: var(--body-text-color-subdued);}
.rq-draft {line-height: 1.75; font-size: 1rem; white-space: pre-wrap; color: var(--body-text-color-subdued);}
.rq-cursor {animation: rq-blink 1s steps(2) infinite;}
@keyframes rq-blink {50% {opacity: 0;}}
.rq-understood {font-size: 0.85rem; color: var(--body-text-color-subdued); margin-bottom: 4px;}
.rq-cite {color: var(--color-accent); font-weight: 600; white-space: nowrap; text-decoration: none; cursor: pointer;}
.rq-note {margin-top: 8px; padding: 6px 10px; border-left: 3px solid #d97706; background: rgba(217,119,6,0.08); font-size: 0.9rem;}
.rq-meta-line {margin-top: 6px; font-size: 0.8rem; color: var(--body-text-color-subdued);}
.rq-meta-line a {margin-left: 6px;}
.rq-sources-title {margin: 12px 0 4px 0; font-weight: 600; font-size: 0.92rem;}
.rq-passage {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; margin: 6px 0; background: var(--background-fill-secondary); scroll-margin-top: 80px;}
.rq-passage.rq-flash {outline: 3px solid #f59e0b; transition: outline 0.3s;}
.rq-passage.rq-weak {opacity: 0.75;}
.rq-passage-head {font-size: 0.86rem; color: var(--body-text-color-subdued); margin-bottom: 4px;}
.rq-passage-head .rq-n {color: var(--color-accent); font-weight: 700; margin-right: 4px;}
.rq-passage-head .rq-town {color: var(--body-text-color); font-weight: 600;}
.rq-passage-head .rq-score {float: right; font-size: 0.78rem;}
.rq-passage-text {font-size: 0.93rem; line-height: 1.7; white-space: pre-wrap;}
.rq-passage details {margin-top: 4px; font-size: 0.88rem;}
.rq-passage summary {cursor: pointer; color: var(--color-accent);}
.rq-open {cursor: pointer; color: var(--color-accent); font-size: 0.85rem; margin-left: 8px;}
.rq-context {white-space: pre-wrap; line-height: 1.7; padding: 6px 8px; margin-top: 4px; background: var(--background-fill-primary); border-radius: 6px; max-height: 360px; overflow-y: auto;}
.rq-here {background: rgba(59,130,246,0.12); border-bottom: 2px solid rgba(59,130,246,0.5);}
mark {background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px;}
mark.rq-quote {background: #bbf7d0; border-bottom: 2px solid #16a34a;}
.rq-town-group {margin: 10px 0 16px 0;}
.rq-town-group h3 {margin: 0 0 4px 0; font-size: 1.05rem;}
.rq-town-group h3 small {font-weight: normal; color: var(--body-text-color-subdued);}
.rq-weak-divider {margin: 18px 0 6px 0; padding-top: 8px; border-top: 2px dashed var(--border-color-primary); color: var(--body-text-color-subdued); font-size: 0.9rem;}
.rq-doc-text {white-space: pre-wrap; line-height: 1.8; max-height: calc(100vh - 260px); overflow-y: auto; padding: 8px 12px; border: 1px solid var(--border-color-primary); border-radius: 8px;}
.rq-doc-text .rq-heading {font-weight: 700; color: var(--color-accent);}
.rq-outline {max-height: calc(100vh - 260px); overflow-y: auto; font-size: 0.9rem; line-height: 1.6;}
.rq-outline a {text-decoration: none;}
.rq-outline small {color: var(--body-text-color-subdued);}
.rq-ok {color: #15803d; font-weight: 600;}
.rq-error {color: #b91c1c; font-weight: 600;}
.rq-gold {font-size: 0.9rem;}
.rq-empty {color: var(--body-text-color-subdued); padding: 4px 0;}
.rq-side {font-size: 0.85rem;}
#rq-history {max-height: 260px; overflow-y: auto;}
"""

# Gradio's HTML sanitizer keeps href and drops data-* attributes, so links carry their target in href.
# One delegated handler: [n] scrolls to its source card and flashes it; 「在文档中打开」 hands
# its target to a hidden button whose Python handler opens the 文档 tab at that place.
HEAD = """
<script>
document.addEventListener('click', function (event) {
  const cite = event.target.closest('a.rq-cite');
  if (cite) {
    event.preventDefault();
    const card = document.getElementById(cite.getAttribute('href').slice(1));
    if (card) {
      card.scrollIntoView({block: 'center'});
      card.classList.add('rq-flash');
      setTimeout(function () { card.classList.remove('rq-flash'); }, 2500);
    }
    return;
  }
  const open = event.target.closest('a.rq-open');
  if (open) {
    event.preventDefault();
    window.rqOpenTarget = decodeURIComponent(open.getAttribute('href').slice('#open='.length));
    document.querySelector('#rq-open-button').click();
  }
}, true);
</script>
"""

OPEN_TARGET_JS = "(value) => window.rqOpenTarget || value"
SCROLL_TO_TARGET_JS = "() => { setTimeout(() => document.getElementById('rq-target')?.scrollIntoView({block: 'center'}), 150); }"
CONFIRM_CLEAR_JS = "(answer, client) => [confirm('清空当前对话，开始新的对话？\\n（原对话仍保存在「历史对话」中，可以随时打开。）') ? 'yes' : 'no', client]"
CONFIRM_DELETE_JS = "(role, source) => confirm('确定从报告库删除这份报告？\\n删除后它不再出现在回答、检索和筛选中；原文件移入回收站，不会丢失。') ? [role, source] : [role, '']"
