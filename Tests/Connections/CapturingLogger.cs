using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FlowOrleans.Tests.Connections;

/// <summary>A logger that keeps every message it is given, at every level, for tests that check what was logged.</summary>
internal sealed class CapturingLogger : ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Entries => [.. _entries];

    public string All => string.Join("\n", _entries.Select(e => e.Message));

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        _entries.Enqueue((logLevel, formatter(state, exception)));
    }
}

/// <summary>Hands one <see cref="CapturingLogger"/> to every category, for options that take a logger factory.</summary>
internal sealed class CapturingLoggerProvider(CapturingLogger logger) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => logger;

    public void Dispose()
    {
    }
}
