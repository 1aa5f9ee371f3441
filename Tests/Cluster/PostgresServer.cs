namespace FlowOrleans.Tests.Cluster;

/// <summary>
/// A private PostgreSQL server for the durability tests: a fresh data directory, a free loopback port, no fsync.
/// Each test gets its own database prepared with the project's <c>deploy/postgresql/</c> scripts, the same way an
/// operator prepares one. The server binaries come from Debian's <c>postgresql</c> package, which the test command
/// installs when they are missing; as root, the server runs as the <c>postgres</c> user because it refuses root.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private string _binaries = "";
    private string _dataDirectory = "";
    private int _databases;

    public int Port { get; private set; }

    public ValueTask InitializeAsync() => StartAsync(null, null);

    /// <summary>
    /// A server of its own that also listens on <paramref name="address"/> and trusts clients from
    /// <paramref name="network"/> (CIDR): for processes in other network namespaces, which cannot reach this host's
    /// loopback. The shared server stays on loopback alone.
    /// </summary>
    public static async Task<PostgresServer> StartOnAsync(System.Net.IPAddress address, string network)
    {
        var server = new PostgresServer();
        try
        {
            await server.StartAsync(address, network);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>The connection string of <paramref name="connectionString"/>'s database as seen from <paramref name="address"/>'s side.</summary>
    public static string Via(string connectionString, System.Net.IPAddress address) =>
        connectionString.Replace("Host=127.0.0.1;", $"Host={address};", StringComparison.Ordinal);

    private async ValueTask StartAsync(System.Net.IPAddress? address, string? network)
    {
        _binaries = FindBinaries();
        _dataDirectory = Path.Combine(Path.GetTempPath(), "flow-orleans-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Port = ChildProcesses.FreePort();
        await RunServerToolAsync("initdb", "-D", _dataDirectory, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync");
        var listen = "127.0.0.1";
        if (address is not null && network is not null)
        {
            listen += "," + address;
            await File.AppendAllTextAsync(Path.Combine(_dataDirectory, "pg_hba.conf"), $"host all all {network} trust\n");
        }

        await RunServerToolAsync(
            "pg_ctl", "-D", _dataDirectory, "-l", Path.Combine(_dataDirectory, "server.log"), "-w", "-t", "60",
            "-o", $"-p {Port} -k {_dataDirectory} -c listen_addresses={listen} -c max_connections=1000 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            "start");
    }

    public async ValueTask DisposeAsync()
    {
        if (_dataDirectory.Length == 0 || !Directory.Exists(_dataDirectory))
        {
            return;
        }

        try
        {
            await RunServerToolAsync("pg_ctl", "-D", _dataDirectory, "-m", "immediate", "-w", "stop");
        }
        finally
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateEmptyDatabaseAsync()
    {
        var name = $"flow_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}"[..24];
        await RunAsync(Path.Combine(_binaries, "psql"), PsqlArgs("postgres", "-c", $"CREATE DATABASE {name}"));
        return ConnectionString(name);
    }

    /// <summary>Creates an empty database, runs the deployment scripts on it with psql and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var connectionString = await CreateEmptyDatabaseAsync();
        var name = DatabaseOf(connectionString);
        var scripts = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "postgresql"), "*.sql").Order(StringComparer.Ordinal).ToArray();
        Assert.True(scripts.Length == 4, $"expected the 4 deployment scripts next to the tests, found {scripts.Length}");
        foreach (var script in scripts)
        {
            await RunAsync(Path.Combine(_binaries, "psql"), PsqlArgs(name, "-f", script));
        }

        return connectionString;
    }

    private string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Connection Idle Lifetime=10;Connection Pruning Interval=2";

    private static string DatabaseOf(string connectionString) =>
        connectionString.Split(';').Single(p => p.StartsWith("Database=", StringComparison.Ordinal))["Database=".Length..];

    /// <summary>Runs <paramref name="sql"/> on the database of <paramref name="connectionString"/>; returns psql's unaligned rows.</summary>
    public Task<string> QueryAsync(string connectionString, string sql)
    {
        return RunAsync(Path.Combine(_binaries, "psql"), PsqlArgs(DatabaseOf(connectionString), "-A", "-t", "-c", sql));
    }

    private string[] PsqlArgs(string database, params string[] rest) =>
        ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-q", .. rest];

    private Task<string> RunServerToolAsync(string tool, params string[] args)
    {
        var path = Path.Combine(_binaries, tool);
        return Environment.UserName == "root" ? RunAsync("runuser", ["-u", "postgres", "--", path, .. args]) : RunAsync(path, args);
    }

    private static async Task<string> RunAsync(string program, IReadOnlyList<string> args)
    {
        using var timeout = new CancellationTokenSource(CommandTimeout);
        var (exitCode, output, error) = await ChildProcesses.RunAsync(program, args, timeout.Token);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited with {exitCode}: {output}{error}");
        }

        return output;
    }

    private static string FindBinaries()
    {
        const string root = "/usr/lib/postgresql";
        var bin = Directory.Exists(root)
            ? Directory.GetDirectories(root).Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderDescending(StringComparer.Ordinal).FirstOrDefault()
            : null;
        return bin ?? throw new InvalidOperationException(
            "PostgreSQL server binaries were not found under /usr/lib/postgresql; scripts/test.sh installs them (apt-get install postgresql).");
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "Postgres";
}
