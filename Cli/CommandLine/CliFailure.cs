namespace FlowOrleans.Cli.CommandLine;

/// <summary>
/// A failure flowctl reports as one line and an exit code. Verbs throw it where they know which argument or setting
/// was wrong; <see cref="Failures"/> turns every other exception into one.
/// </summary>
internal sealed class CliFailure : Exception
{
    public CliFailure(ExitCode code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    public ExitCode Code { get; }
}
