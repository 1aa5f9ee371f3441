using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.Benchmarks.Scale;

/// <summary>
/// The benchmark's side of its client process (<see cref="ScaleClientProgram"/>): starts this same executable in client
/// mode and sends it commands, one at a time. Disposing ends the process (killing it if it does not exit in time).
/// </summary>
internal sealed class ScaleClientProcess : IAsyncDisposable
{
    private static readonly TimeSpan s_exitGrace = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly Task<string> _errors;

    // A command that was cancelled or failed mid-way may leave the client busy: it is killed rather than waited for.
    private bool _abandoned;

    private ScaleClientProcess(Process process)
    {
        _process = process;
        _errors = process.StandardError.ReadToEndAsync();
    }

    /// <summary>The client process's CPU time so far, read from outside, so reading it costs that process nothing.</summary>
    public TimeSpan Cpu
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public static ScaleClientProcess Start()
    {
        var start = new ProcessStartInfo(Environment.ProcessPath ?? throw new InvalidOperationException("The benchmark's executable is unknown."))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // Run through `dotnet FlowOrleans.Benchmarks.dll`, the executable is the host: name the assembly too.
        if (Path.GetFileNameWithoutExtension(start.FileName) == "dotnet")
        {
            start.ArgumentList.Add(Assembly.GetEntryAssembly()?.Location ?? throw new InvalidOperationException("The benchmark's assembly is unknown."));
        }

        start.ArgumentList.Add(ScaleClientProgram.Argument);
        return new ScaleClientProcess(Process.Start(start) ?? throw new InvalidOperationException("The client process did not start."));
    }

    public Task WarmUpAsync(Endpoint server, CancellationToken cancellationToken) =>
        CommandAsync($"warmup {server}", cancellationToken);

    public Task ConnectAsync(Endpoint server, int connections, CancellationToken cancellationToken) =>
        CommandAsync(string.Create(CultureInfo.InvariantCulture, $"connect {connections} {server}"), cancellationToken);

    public Task OpenFlowsAsync(int perConnection, CancellationToken cancellationToken) =>
        CommandAsync(string.Create(CultureInfo.InvariantCulture, $"open {perConnection}"), cancellationToken);

    public Task CloseAsync(CancellationToken cancellationToken) => CommandAsync("close", cancellationToken);

    /// <summary>Fails unless the client holds <paramref name="connections"/> connections and none of them has closed.</summary>
    public Task CheckAsync(int connections, CancellationToken cancellationToken) =>
        CommandAsync(string.Create(CultureInfo.InvariantCulture, $"check {connections}"), cancellationToken);

    public async Task<ProcessFootprint> FootprintAsync(CancellationToken cancellationToken) =>
        ProcessFootprint.Parse(await CommandAsync("footprint", cancellationToken));

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_abandoned)
            {
                _process.StandardInput.Close(); // end of input: the client closes its managers and exits
                await _process.WaitForExitAsync().WaitAsync(s_exitGrace);
            }
        }
        catch (Exception e) when (e is TimeoutException or IOException)
        {
            _abandoned = true;
        }

        try
        {
            if (_abandoned && !_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private async Task<string> CommandAsync(string command, CancellationToken cancellationToken)
    {
        string? reply;
        try
        {
            await _process.StandardInput.WriteLineAsync(command.AsMemory(), cancellationToken);
            await _process.StandardInput.FlushAsync(cancellationToken);
            reply = await _process.StandardOutput.ReadLineAsync(cancellationToken);
        }
        catch
        {
            _abandoned = true;
            throw;
        }

        return reply switch
        {
            null => throw new InvalidOperationException(
                $"The client process ended during '{command}': {(await _errors).Trim()}"),
            ['o', 'k', ..] => reply[2..].Trim(),
            _ => throw new InvalidOperationException($"The client process failed '{command}': {reply}"),
        };
    }
}
