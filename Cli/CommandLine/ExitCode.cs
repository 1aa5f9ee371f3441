namespace FlowOrleans.Cli.CommandLine;

/// <summary>
/// flowctl's exit codes, one per class of failure, so scripts can tell a typo from an unreachable peer without
/// reading the message. <see cref="Describe"/> is printed in every verb's help.
/// </summary>
internal enum ExitCode
{
    Success = 0,

    /// <summary>A bug in flowctl: an exception nobody expected.</summary>
    Internal = 1,

    /// <summary>The command line: an unknown verb or option, a missing argument, a malformed value.</summary>
    BadArgument = 2,

    /// <summary>A file or principal directory: missing, unreadable, corrupt, already there, or of the wrong key.</summary>
    BadInput = 3,

    /// <summary>The peer, proxy or listen address could not be reached or used, or the connection broke.</summary>
    Unreachable = 4,

    /// <summary>Authentication or authorization failed: a signature, a blessing, a root or a <c>--blessing</c> pattern.</summary>
    NotTrusted = 5,

    /// <summary>No gateway answered, or the cluster has no active silo.</summary>
    ClusterUnavailable = 6,

    /// <summary>The cluster or the peer refused the request as invalid in its state.</summary>
    Refused = 7,

    /// <summary>The echo differs from the bytes sent.</summary>
    EchoMismatch = 8,

    /// <summary>Interrupted (Ctrl+C) before a finite verb finished; servers stopped by Ctrl+C exit with 0.</summary>
    Interrupted = 130,
}

internal static class ExitCodes
{
    /// <summary>The exit code table for <c>--help</c>.</summary>
    public static string Describe() => """

        Exit codes (every failure prints one line on stderr naming the argument, the value and what is expected):
          0    success (servers stopped with Ctrl+C too)
          1    internal error in flowctl (--verbose prints the details)
          2    bad command line: unknown verb or option, missing argument, malformed value
          3    bad input file or principal directory: missing, unreadable, corrupt, already there, wrong key
          4    unreachable: the peer, proxy or listen address could not be used, or the connection broke
          5    not trusted: authentication or authorization failed (blessings, roots, --blessing patterns)
          6    cluster unavailable: no gateway answered, or the cluster has no active silo
          7    refused: the cluster or the peer refused the request
          8    echo mismatch: the bytes echoed back differ from the bytes sent
          130  interrupted (Ctrl+C) before the verb finished
        """;
}
