# Two commands do all set-up: `make demo` and `make test`.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
SYSPKGS := libreoffice-writer-nogui libreoffice-calc-nogui fonts-noto-cjk fonts-arphic-uming fonts-arphic-ukai poppler-utils postgresql libarchive13 chromium python3-uno
# 宋体/黑体/楷体/仿宋 → the installed SC faces (pipeline/data/fonts/README.md); root: system-wide, else per user.
FONTCONF := pipeline/data/fonts/30-manyi-zh-cn.conf
FONTDIR  := $(if $(filter 0,$(shell id -u)),/etc/fonts/conf.d,$(HOME)/.config/fontconfig/conf.d)
# The single-region Simplified Chinese faces (Noto Serif SC, Noto Sans SC; SIL OFL), from the npm registry:
# Debian's Noto CJK collections print SC glyphs but name every face …CJKjp… in a PDF (pipeline/data/fonts/README.md).
SCFONTS   := @expo-google-fonts/noto-serif-sc@0.4.3 @expo-google-fonts/noto-sans-sc@0.4.3
SCFONTDIR := $(if $(filter 0,$(shell id -u)),/usr/local/share/fonts/manyi,$(HOME)/.local/share/fonts/manyi)

.PHONY: demo test bench screenshots mutants system fontconfig scfonts venv clean

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# System packages: LibreOffice (for .doc input and PDF output), CJK fonts, pdffonts/pdftoppm, PostgreSQL (workspace tests),
# python3-uno (tests type into documents through UNO with the system python3).
system:
	@missing=$$(for p in $(SYSPKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -z "$$missing" ]; then \
		echo "系统依赖已就绪"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "正在安装系统依赖: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
		echo "请先安装系统依赖（需要管理员权限）: sudo apt-get install $$missing"; \
		echo "Windows/macOS: 安装 LibreOffice 并确保 soffice 在 PATH 中。"; \
	fi

# Installed only when missing or when it differs from the copy in place, so running it again changes nothing.
fontconfig: scfonts
	@if ! cmp -s $(FONTCONF) $(FONTDIR)/$(notdir $(FONTCONF)); then \
		mkdir -p $(FONTDIR) && cp $(FONTCONF) $(FONTDIR)/ && echo "已安装中文字体映射: $(FONTDIR)/$(notdir $(FONTCONF))"; \
	fi

scfonts:
	@if [ ! -f $(SCFONTDIR)/NotoSerifSC_400Regular.ttf ] || [ ! -f $(SCFONTDIR)/NotoSansSC_700Bold.ttf ]; then \
		if ! command -v npm >/dev/null 2>&1; then \
			echo "提示：没有 npm，未安装 Noto Serif SC / Noto Sans SC；PDF 改用 Noto CJK 字体（字形相同，字体名显示为 CJKjp）"; exit 0; \
		fi; \
		tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent $(SCFONTS) >/dev/null) && \
		for t in $$tmp/*.tgz; do tar xzf $$t -C $$tmp --wildcards 'package/400Regular/*.ttf' 'package/700Bold/*.ttf'; done && \
		mkdir -p $(SCFONTDIR) && cp $$tmp/package/*/*.ttf $(SCFONTDIR)/ && rm -rf $$tmp && fc-cache -f $(SCFONTDIR) >/dev/null && \
		echo "已安装简体中文字体 Noto Serif SC / Noto Sans SC: $(SCFONTDIR)"; \
	fi

demo: system fontconfig venv
	$(BIN)/python -m pipeline demo --out output/demo

test: system fontconfig venv
	$(BIN)/python -m pytest -n 2 --dist loadgroup

# The README's screenshots of the page, taken by the browser test.
screenshots: system fontconfig venv
	rm -f docs/screenshots/*.jpg
	MANYI_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q -n 0 tests/test_web_browser.py

bench: system fontconfig venv
	$(BIN)/python -m benchmarks

# Mutation testing of the rules and normalisers (mutmut, 2 processes); writes benchmarks/mutants.md. Not part of `make test`.
mutants: venv
	$(BIN)/pip install -q -r benchmarks/requirements-mutants.txt
	$(BIN)/python -m benchmarks.mutants --max-children 2

clean:
	rm -rf $(VENV) output/demo mutants
