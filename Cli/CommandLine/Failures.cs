using System.Text.RegularExpressions;
using FlowOrleans.Transport;

namespace FlowOrleans.Cli.CommandLine;

/// <summary>
/// Turns what a verb threw into a <see cref="CliFailure"/>: a one-line message and the exit code of its class.
/// Verbs throw <see cref="CliFailure"/> themselves where they can name the argument; the rest is classified here.
/// </summary>
internal static partial class Failures
{
    /// <summary>Classifies <paramref name="exception"/>; <paramref name="what"/> says what was being done ("dial X").</summary>
    public static CliFailure Classify(Exception exception, string what) => exception switch
    {
        CliFailure failure => failure,
        FlowException flow => new CliFailure(Classify(flow.Code), $"{what}: {flow.Code}: {flow.Message}", flow),
        FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException =>
            new CliFailure(ExitCode.BadInput, $"{what}: {exception.Message}", exception),
        TimeoutException => new CliFailure(ExitCode.ClusterUnavailable, $"{what}: timed out: {exception.Message}", exception),
        Orleans.Runtime.OrleansException => new CliFailure(ExitCode.ClusterUnavailable, $"{what}: {exception.Message}", exception),
        _ => new CliFailure(ExitCode.Internal, $"{what}: internal error ({exception.GetType().Name}): {exception.Message}; --verbose prints the details", exception),
    };

    public static ExitCode Classify(FlowErrorCode code) => code switch
    {
        FlowErrorCode.Auth or FlowErrorCode.NotTrusted => ExitCode.NotTrusted,
        FlowErrorCode.Network or FlowErrorCode.DialFailed or FlowErrorCode.ResolveFailed or FlowErrorCode.Proxy or FlowErrorCode.Aborted => ExitCode.Unreachable,
        _ => ExitCode.Refused,
    };

    /// <summary>The message on one line: exception texts (Orleans' especially) may span several.</summary>
    public static string OneLine(string message) => Whitespace().Replace(message, " ").Trim();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
