"""Run by the system Python (python3-uno): open a workbook in LibreOffice, type the text of cells B2… again
into each as staff would (the UI's EnterString), save as .xlsx, and print each cell's type before and after.

usage: python3 lo_retype.py SOFFICE IN.xlsx OUT.xlsx PROFILE_DIR ROWS
"""

import os
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def main(soffice, source, target, profile, rows):
    pipe = f"manyi-retype-{os.getpid()}"
    office = subprocess.Popen([soffice, "--headless", "--norestore", "--nologo", "--nodefault",
                               f"-env:UserInstallation={uno.systemPathToFileUrl(profile)}",
                               f"--accept=pipe,name={pipe};urp;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        for _ in range(600):
            try:
                remote = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:  # noqa: BLE001 - not listening yet
                time.sleep(0.2)
        else:
            raise SystemExit("LibreOffice did not start")
        smgr = remote.ServiceManager
        desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", remote)
        dispatcher = smgr.createInstanceWithContext("com.sun.star.frame.DispatchHelper", remote)
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(source), "_blank", 0, (prop("Hidden", True),))
        controller = doc.getCurrentController()
        sheet = doc.Sheets.getByIndex(0)
        for row in range(1, rows + 1):
            cell = sheet.getCellByPosition(1, row)
            before, text = cell.getType().value, cell.getString()
            controller.select(cell)
            dispatcher.executeDispatch(controller.getFrame(), ".uno:EnterString", "", 0, (prop("StringName", text),))
            print(f"{before} {cell.getType().value}")
        doc.storeToURL(uno.systemPathToFileUrl(target), (prop("FilterName", "Calc MS Excel 2007 XML"),))
        try:
            doc.close(True)
        except Exception:  # noqa: BLE001 - soffice may quit with its last document: the file is stored already
            pass
    finally:
        office.terminate()
        office.wait(60)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
