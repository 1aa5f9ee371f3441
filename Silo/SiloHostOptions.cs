using System.ComponentModel.DataAnnotations;

namespace FlowOrleans.Silo;

/// <summary>Cluster settings of the embedded single-node silo, bound from the <c>Silo</c> configuration section.</summary>
internal sealed class SiloHostOptions
{
    public const string SectionName = "Silo";

    /// <summary>Silo-to-silo port. Default 11111.</summary>
    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port clients connect to. Default 30000.</summary>
    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Default <c>dev</c>.</summary>
    [Required]
    public string ClusterId { get; set; } = "dev";

    /// <summary>Default <c>flow-orleans</c>.</summary>
    [Required]
    public string ServiceId { get; set; } = "flow-orleans";
}
