using System.Diagnostics;
using System.Text.Json;

namespace FlowOrleans.Tests.Deploy;

/// <summary>
/// Every overlay of deploy/k8s rendered once by <c>scripts/check-k8s.sh</c> (kubectl kustomize, then the offline
/// schema validation) in a copy of the tree, after the dev overlay's <c>make-secrets.sh</c> made its development
/// certificates and principal there with this build's flowctl. The tests read the rendered objects.
/// </summary>
public sealed class RenderedOverlays : IAsyncLifetime
{
    private DirectoryInfo? _work;

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The rendered objects of each overlay, by overlay name.</summary>
    public IReadOnlyDictionary<string, JsonElement[]> Overlays { get; private set; } = new Dictionary<string, JsonElement[]>();

    /// <summary>The copy of deploy/k8s that was rendered (the dev overlay's generated secrets are in it).</summary>
    public string K8sDirectory { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        _work = Directory.CreateTempSubdirectory("flow-k8s-");
        K8sDirectory = Path.Combine(_work.FullName, "k8s");
        Copy(Path.Combine(RepositoryRoot, "deploy", "k8s"), K8sDirectory);

        var flowctl = $"dotnet {Path.Combine(AppContext.BaseDirectory, "flowctl.dll")}";
        await RunAsync("bash", [Path.Combine(K8sDirectory, "overlays", "dev", "make-secrets.sh")], new() { ["FLOWCTL"] = flowctl });
        var output = Path.Combine(_work.FullName, "rendered");
        await RunAsync("bash", [Path.Combine(RepositoryRoot, "scripts", "check-k8s.sh"), K8sDirectory, output], []);

        Overlays = Directory.GetDirectories(Path.Combine(K8sDirectory, "overlays")).Select(Path.GetFileName).ToDictionary(
            name => name!,
            name => JsonDocument.Parse(File.ReadAllText(Path.Combine(output, name + ".json"))).RootElement.EnumerateArray().ToArray());
    }

    /// <summary>Runs a program to completion; a non-zero exit fails with everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string program, IReadOnlyList<string> args, Dictionary<string, string> environment, bool check = true)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        var text = await output + await error;
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited with {process.ExitCode}:\n{text}");
        }

        return (process.ExitCode, text);
    }

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (var directory in Directory.GetDirectories(from).Where(d => Path.GetFileName(d) != "secrets"))
        {
            Copy(directory, Path.Combine(to, Path.GetFileName(directory)));
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "FlowOrleans.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No FlowOrleans.sln above {AppContext.BaseDirectory}.");
    }

    public ValueTask DisposeAsync()
    {
        _work?.Delete(recursive: true);
        return ValueTask.CompletedTask;
    }
}
