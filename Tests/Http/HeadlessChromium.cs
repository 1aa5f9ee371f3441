using FlowOrleans.Tests.Cluster;

namespace FlowOrleans.Tests.Http;

/// <summary>
/// Debian's <c>chromium</c>, headless, in a fresh profile: loads a page, lets its scripts run, and returns the DOM they
/// left. Missing Chromium fails the test (scripts/test.sh installs it), it never skips.
/// </summary>
internal static class HeadlessChromium
{
    /// <summary>Virtual time the page gets before the dump: its first poll of /status.json completes within it.</summary>
    private const int VirtualTimeBudgetMs = 5000;

    public static string Executable { get; } = Find();

    public static async Task<string> DumpDomAsync(Uri page, CancellationToken ct)
    {
        Assert.True(Executable.Length > 0, "Chromium is not installed: the status page test needs Debian's chromium (apt-get install -y chromium; scripts/test.sh installs it when missing).");
        var profile = Directory.CreateTempSubdirectory("flow-chromium-");
        try
        {
            string[] args =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", $"--user-data-dir={profile.FullName}",
                $"--virtual-time-budget={VirtualTimeBudgetMs}", "--dump-dom", page.ToString(),
            ];
            var (exitCode, output, error) = await ChildProcesses.RunAsync(Executable, args, ct);
            Assert.True(exitCode == 0, $"chromium exited with {exitCode}: {error}");
            return output;
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }

    private static string Find()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, "chromium");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return "";
    }
}
