/* odfix.exe: start odfix inside the Python runtime shipped beside it, nothing installed.
 *
 * Layout (the folder odfix.exe is in may be read-only or a network share):
 *   odfix.exe
 *   runtime\python3XX.dll, python3XX.zip, python3XX._pth, *.pyd   (python.org embeddable CPython)
 *   lib\odfix, lib\pydantic, ...                                   (odfix and its dependencies)
 *
 * It loads runtime\PYTHON_DLL by full path and calls Py_Main with
 *   odfix.exe -X odfix-exe -m odfix ARGS...
 * The ._pth file beside the DLL fixes sys.path and makes Python ignore PYTHON* variables;
 * "-X odfix-exe" tells odfix it runs as odfix.exe (so a restart re-runs this program).
 * The exit code is odfix's own. Built with mingw-w64 (scripts/windows/build.py).
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

#ifndef PYTHON_DLL
#error "build with -DPYTHON_DLL=L\"python311.dll\""
#endif

typedef int (*py_main_t)(int, wchar_t **);

static int fail(const wchar_t *what, const wchar_t *path) {
    fwprintf(stderr, L"odfix: error: %ls %ls (Windows error %lu); odfix.exe needs the runtime "
                     L"folder that came with it in the same zip\n", what, path, GetLastError());
    return 70;
}

int wmain(int argc, wchar_t **argv) {
    wchar_t exe[32768];
    DWORD n = GetModuleFileNameW(NULL, exe, 32768);
    if (n == 0 || n >= 32768) return fail(L"cannot find its own path", L"");
    wchar_t *slash = wcsrchr(exe, L'\\');
    if (slash == NULL) return fail(L"cannot find its own folder in", exe);
    slash[1] = L'\0';

    size_t dir_len = wcslen(exe);
    wchar_t *runtime = malloc((dir_len + 16) * sizeof(wchar_t));
    wchar_t *dll = malloc((dir_len + 64) * sizeof(wchar_t));
    if (runtime == NULL || dll == NULL) return 70;
    swprintf(runtime, dir_len + 16, L"%lsruntime", exe);
    swprintf(dll, dir_len + 64, L"%ls\\%ls", runtime, PYTHON_DLL);

    /* The runtime's own DLLs (vcruntime140.dll, libffi, OpenSSL) come from runtime\ only:
       the current directory and PATH are not searched for them. */
    SetDefaultDllDirectories(LOAD_LIBRARY_SEARCH_DEFAULT_DIRS);
    AddDllDirectory(runtime);
    HMODULE python = LoadLibraryExW(dll, NULL, LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR |
                                               LOAD_LIBRARY_SEARCH_DEFAULT_DIRS);
    if (python == NULL) return fail(L"cannot load", dll);
    py_main_t py_main = (py_main_t)(void *)GetProcAddress(python, "Py_Main");
    if (py_main == NULL) return fail(L"finds no Py_Main in", dll);

    wchar_t **args = malloc((size_t)(argc + 5) * sizeof(wchar_t *));
    if (args == NULL) return 70;
    int k = 0;
    args[k++] = argv[0];
    args[k++] = L"-X";
    args[k++] = L"odfix-exe";
    args[k++] = L"-m";
    args[k++] = L"odfix";
    for (int i = 1; i < argc; i++) args[k++] = argv[i];
    args[k] = NULL;
    return py_main(k, args);
}
