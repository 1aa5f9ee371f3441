using System.Text;

namespace FlowOrleans.Tests.Cli;

/// <summary>A thread-safe writer that keeps what flowctl prints, so a test can wait for a line while a verb still runs.</summary>
internal sealed class CapturedOutput : TextWriter
{
    private readonly StringBuilder _text = new();
    private readonly Lock _lock = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_lock)
        {
            _text.Append(value);
        }
    }

    public override void Write(string? value)
    {
        lock (_lock)
        {
            _text.Append(value);
        }
    }

    public override string ToString()
    {
        lock (_lock)
        {
            return _text.ToString();
        }
    }

    public string[] Lines => ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Waits until a line matches; the verb may print it at any time from any thread.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (Lines.FirstOrDefault(match) is { } line)
            {
                return line;
            }

            await Task.Delay(10, cancellationToken);
        }
    }

    /// <summary>Waits for <c>PREFIX ENDPOINT</c> and returns the endpoint.</summary>
    public async Task<string> WaitForEndpointAsync(string prefix, CancellationToken cancellationToken) =>
        (await WaitForLineAsync(l => l.StartsWith(prefix, StringComparison.Ordinal), cancellationToken))[prefix.Length..].Trim();
}
