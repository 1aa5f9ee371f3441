using System.Collections;
using System.Globalization;
using System.Reflection;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Transport.Manager;

namespace FlowOrleans.Tests.Deploy;

/// <summary>
/// The settings the Silo program reads, from its own options classes: <c>SiloHostOptions</c> (section <c>Silo</c>,
/// internal to the Silo program, so found by reflection) and <see cref="FlowOrleansOptions"/> (section
/// <c>FlowOrleans</c>). A manifest's <c>Section__Key</c> environment variable is the setting <c>Section:Key</c>.
/// </summary>
internal static class SiloSettings
{
    /// <summary>The path the Silo serves on Silo:HttpPort for liveness (Silo/Http/HealthEndpoints.cs): the probes use it.</summary>
    public const string LivenessPath = FlowOrleans.Silo.Http.HealthEndpoints.LivenessPath;

    /// <summary>See <see cref="LivenessPath"/>: ready once the silo joined the cluster and its transport listens.</summary>
    public const string ReadinessPath = FlowOrleans.Silo.Http.HealthEndpoints.ReadinessPath;

    /// <summary>The Silo's host shutdown timeout (Silo/Program.cs): the pod's grace period must exceed it.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(120);

    public static Type SiloHostOptions { get; } = Type.GetType("FlowOrleans.Silo.SiloHostOptions, FlowOrleans.Silo", throwOnError: true)!;

    /// <summary>The Silo program's assembly, whose file the image's entry point runs.</summary>
    public static string SiloAssemblyFile => SiloHostOptions.Assembly.GetName().Name + ".dll";

    private static readonly Dictionary<string, Type> s_sections = new()
    {
        [(string)SiloHostOptions.GetField("SectionName")!.GetValue(null)!] = SiloHostOptions,
        [FlowOrleansOptions.SectionName] = typeof(FlowOrleansOptions),
    };

    /// <summary>The setting an environment variable configures (<c>Silo__Tls__CertificatePath</c> is <c>Silo:Tls:CertificatePath</c>).</summary>
    public static string FromEnvironmentName(string name) => name.Replace("__", ":", StringComparison.Ordinal);

    /// <summary>The property a setting binds to, and the element type when it is an indexed list entry (Listen:0); null if none.</summary>
    public static (PropertyInfo Property, Type ValueType)? Find(string setting)
    {
        var parts = setting.Split(':');
        if (!s_sections.TryGetValue(parts[0], out var type))
        {
            return null;
        }

        PropertyInfo? property = null;
        for (var i = 1; i < parts.Length; i++)
        {
            property = type.GetProperty(parts[i], BindingFlags.Public | BindingFlags.Instance);
            if (property is null)
            {
                return null;
            }

            type = property.PropertyType;
            if (type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type))
            {
                // A list setting: the next part is an index, and nothing follows it.
                return i + 2 == parts.Length && int.TryParse(parts[i + 1], CultureInfo.InvariantCulture, out _)
                    ? (property, type.GetGenericArguments()[0])
                    : null;
            }
        }

        return property is null ? null : (property, type);
    }

    /// <summary>Whether the configuration binder can turn <paramref name="value"/> into <paramref name="type"/>.</summary>
    public static bool Converts(string value, Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            _ when type == typeof(string) => true,
            _ when type == typeof(int) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
            _ when type == typeof(bool) => bool.TryParse(value, out _),
            _ when type == typeof(TimeSpan) => TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out _),
            _ when type.IsEnum => Enum.TryParse(type, value, ignoreCase: true, out _),
            _ => false,
        };
    }

    /// <summary>The default of a top-level setting, from a new options object; null for any other.</summary>
    public static string? Default(string setting)
    {
        if (Find(setting) is not { } found || found.Property.DeclaringType is not { } declaring || setting.Split(':').Length != 2)
        {
            return null;
        }

        var options = Activator.CreateInstance(declaring, nonPublic: true);
        return Convert.ToString(found.Property.GetValue(options), CultureInfo.InvariantCulture);
    }

    /// <summary>The port of a listen setting's address (<c>tcp/0.0.0.0:8100</c> is 8100).</summary>
    public static int ListenPort(string value)
    {
        Assert.True(ListenAddress.TryParse(value, out var address), $"'{value}' is not a listen address");
        return int.Parse(address.Address[(address.Address.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
    }
}
