namespace FlowOrleans.Silo;

/// <summary>
/// The Silo program's exit codes, one per class of failure, so a script or an orchestrator can tell a typo from a taken
/// port or a database that is down without reading the message. <see cref="SiloExitCodes.Describe"/> is in every
/// command's help; Silo/README.md lists them too. <c>Silo client ...</c> exits with flowctl's codes (it runs flowctl's
/// cluster verbs).
/// </summary>
internal enum SiloExitCode
{
    Success = 0,

    /// <summary>A bug: an exception nobody expected (the log has its details).</summary>
    Internal = 1,

    /// <summary>A bad command line or setting: unknown command or option, malformed or out-of-range value.</summary>
    BadSetting = 2,

    /// <summary>An address the silo must listen on (silo port, gateway port, a transport listen address) is taken or unusable.</summary>
    AddressInUse = 3,

    /// <summary>The storage (PostgreSQL) cannot be reached, refuses the login, or lacks the schema.</summary>
    StorageUnavailable = 4,

    /// <summary>The certificates of <c>Silo:Tls</c> are missing, unreadable or unusable.</summary>
    Certificates = 5,
}

internal static class SiloExitCodes
{
    /// <summary>The exit code table for <c>--help</c>.</summary>
    public static string Describe() => """

        Exit codes (every failure prints one line on stderr naming the setting, the value and what is expected):
          0    success (stopped with Ctrl+C or SIGTERM too)
          1    internal error (the log has the details)
          2    bad command line or setting: unknown command or option, malformed or out-of-range value
          3    address in use: Silo:SiloPort, Silo:GatewayPort or a FlowOrleans:Listen address is taken or unusable
          4    storage unavailable: PostgreSQL (Silo:PostgreSql) unreachable, login refused, or no schema (run init-db)
          5    certificates: a Silo:Tls file is missing, unreadable or unusable
        'client' runs flowctl's cluster verbs and exits with flowctl's codes (flowctl --help).
        """;
}
