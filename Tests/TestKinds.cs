namespace FlowOrleans.Tests;

/// <summary>
/// The <c>Kind</c> trait every test class carries, so a run can pick the fast ones: <c>dotnet test Tests --filter
/// Kind=Unit</c> runs in well under a minute; the others need sockets, an Orleans cluster, child processes or a database.
/// </summary>
internal static class TestKinds
{
    public const string Name = "Kind";

    /// <summary>In-process logic, including connections over the in-memory protocol.</summary>
    public const string Unit = "Unit";

    /// <summary>Real sockets (tcp, unix, WebSocket) on loopback.</summary>
    public const string Socket = "Socket";

    /// <summary>An in-process Orleans cluster or host.</summary>
    public const string Cluster = "Cluster";

    /// <summary>Child processes: the real Silo program.</summary>
    public const string Process = "Process";

    /// <summary>A private PostgreSQL server.</summary>
    public const string Database = "Database";
}
