using FlowOrleans.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Serialization;

namespace FlowOrleans.Tests.Cluster;

/// <summary>
/// A storage failure on a PostgreSQL silo must reach the caller as what failed. Found by the chaos test: 200 pins at
/// once on a loaded machine timed out opening database connections, and every caller saw "Could not find a codec for
/// type Npgsql.NpgsqlException", since Orleans serializes only exceptions of namespaces it knows.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class StorageErrorSerializationTests
{
    private static Exception StorageFailure() =>
        new OrleansException(
            "Error from storage provider AdoNetGrainStorage.pin during ReadStateAsync for grain pinnedconnection/p",
            new NpgsqlException("The operation has timed out", new TimeoutException("The operation has timed out.")));

    [Fact]
    public void ADriverExceptionInsideAStorageFailureReachesTheCallerWithItsMessage()
    {
        using var services = new ServiceCollection()
            .AddSerializer()
            .Configure<ExceptionSerializationOptions>(FlowOrleansPostgresExtensions.SerializeDriverExceptions)
            .BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();

        var received = serializer.Deserialize<Exception>(serializer.SerializeToArray<Exception>(StorageFailure()));

        Assert.NotNull(received);
        Assert.Contains("Error from storage provider", received.Message, StringComparison.Ordinal);
        Assert.Contains("timed out", Assert.IsType<Exception>(received.InnerException, exactMatch: false).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutItTheCallerSeesOnlyAMissingCodec()
    {
        // The failure the setting prevents, so the test above shows the setting is what makes the difference.
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();

        var error = Assert.Throws<CodecNotFoundException>(() => serializer.SerializeToArray<Exception>(StorageFailure()));
        Assert.Contains("Npgsql.NpgsqlException", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APlacementTimeoutReachesTheCallerWithItsMessage()
    {
        // Also found by the chaos test: Orleans' placement timeout carries Polly's exception inside.
        using var services = new ServiceCollection()
            .AddSerializer()
            .Configure<ExceptionSerializationOptions>(FlowOrleansSiloBuilderExtensions.SerializeRuntimeExceptions)
            .BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        var timeout = new TimeoutException(
            "Grain placement operation timed out for grain siloflow/x",
            new Polly.Timeout.TimeoutRejectedException("The operation didn't complete within the allowed timeout of '00:00:30'."));

        var received = serializer.Deserialize<Exception>(serializer.SerializeToArray<Exception>(timeout));

        Assert.NotNull(received);
        Assert.Contains("allowed timeout", Assert.IsType<Exception>(received.InnerException, exactMatch: false).Message, StringComparison.Ordinal);
        using var without = new ServiceCollection().AddSerializer().BuildServiceProvider();
        Assert.Throws<CodecNotFoundException>(() => without.GetRequiredService<Serializer>().SerializeToArray<Exception>(timeout));
    }

    [Fact]
    public void PostgreSqlSilosSetIt()
    {
        var services = new ServiceCollection();
        var builder = new TestSiloBuilder(services);
        builder.AddFlowOrleansPostgresStorage("Host=127.0.0.1");
        using var provider = services.AddSerializer().BuildServiceProvider();
        Assert.Contains("Npgsql", provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<ExceptionSerializationOptions>>().Value.SupportedNamespacePrefixes);
    }

    private sealed class TestSiloBuilder(IServiceCollection services) : ISiloBuilder
    {
        public IServiceCollection Services { get; } = services;

        public Microsoft.Extensions.Configuration.IConfiguration Configuration { get; } = new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build();
    }
}
