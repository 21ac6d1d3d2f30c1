/* credtool.exe: write and list Windows credentials with the real advapi32 API (test helper).
 *
 *   credtool write TARGET [TARGET...]   CredWriteW, generic, local machine, secret "x"
 *   credtool list                       CredEnumerateW(NULL): one target per line
 *
 * The Windows-build test (tests/windows/test_windows_build.py) runs it inside a fresh Wine prefix that has no
 * Python, before and after odfix.exe fix. Built there with mingw-w64.
 */
#include <windows.h>
#include <wincred.h>
#include <stdio.h>

int wmain(int argc, wchar_t **argv) {
    if (argc >= 3 && wcscmp(argv[1], L"write") == 0) {
        for (int i = 2; i < argc; i++) {
            CREDENTIALW cred = {0};
            cred.Type = CRED_TYPE_GENERIC;
            cred.TargetName = argv[i];
            cred.UserName = L"user1@contoso.com";
            cred.CredentialBlob = (LPBYTE)"x";
            cred.CredentialBlobSize = 1;
            cred.Persist = CRED_PERSIST_LOCAL_MACHINE;
            if (!CredWriteW(&cred, 0)) {
                fwprintf(stderr, L"CredWriteW %ls: %lu\n", argv[i], GetLastError());
                return 1;
            }
        }
        return 0;
    }
    if (argc == 2 && wcscmp(argv[1], L"list") == 0) {
        DWORD count = 0;
        PCREDENTIALW *creds = NULL;
        if (!CredEnumerateW(NULL, 0, &count, &creds)) {
            DWORD error = GetLastError();
            if (error == ERROR_NOT_FOUND) return 0;
            fwprintf(stderr, L"CredEnumerateW: %lu\n", error);
            return 1;
        }
        for (DWORD i = 0; i < count; i++) wprintf(L"%ls\n", creds[i]->TargetName);
        CredFree(creds);
        return 0;
    }
    fwprintf(stderr, L"usage: credtool write TARGET... | credtool list\n");
    return 2;
}
