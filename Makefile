# Two commands do all set-up: `make demo` and `make test`.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
SYSPKGS := libreoffice-writer-nogui libreoffice-calc-nogui fonts-noto-cjk poppler-utils postgresql python3-uno

.PHONY: demo test bench system venv clean

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# System packages: LibreOffice (for .doc input and PDF output), CJK fonts, pdffonts/pdftoppm, PostgreSQL (workspace tests),
# python3-uno (tests type into documents through UNO with the system python3).
system:
	@if command -v soffice >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q . && command -v pdffonts >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && /usr/bin/python3 -c "import uno" 2>/dev/null; then \
		echo "系统依赖已就绪 (LibreOffice, 中文字体, poppler, PostgreSQL, python3-uno)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "正在安装系统依赖: $(SYSPKGS)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSPKGS) >/dev/null; \
	else \
		echo "请先安装系统依赖（需要管理员权限）: sudo apt-get install $(SYSPKGS)"; \
		echo "Windows/macOS: 安装 LibreOffice 并确保 soffice 在 PATH 中。"; \
	fi

demo: system venv
	$(BIN)/python -m pipeline demo --out output/demo

test: system venv
	$(BIN)/python -m pytest -n 2 --dist loadgroup

bench: system venv
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) output/demo
