namespace FlowOrleans.Cli.CommandLine;

/// <summary>How flowctl's output is shown: plain text (redirected), a terminal, or a terminal forced (for tests).</summary>
internal enum ConsoleKind
{
    /// <summary>Not a terminal: no colours, no progress bars, wide tables.</summary>
    Plain,

    /// <summary>A terminal: Spectre.Console detects colours and interactivity.</summary>
    Terminal,

    /// <summary>ANSI and interactivity on whatever the writer is, so tests see progress bars.</summary>
    ForcedInteractive,
}
